"""X-Twilio-Signature: Twilio's published example, WebSocket URLs, port forms, tampering."""

from __future__ import annotations

import pytest

from voiceauth.transports.twilio.signature import (
    compute_signature,
    valid_signature,
    websocket_url,
)

TOKEN = "12345"
# Twilio's webhook-security documentation example (auth token 12345).
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675310",
    "Digits": "1234",
    "From": "+14158675310",
    "To": "+18005551212",
}
EXAMPLE_SIGNATURE = "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_twilio_documented_example() -> None:
    assert compute_signature(TOKEN, EXAMPLE_URL, EXAMPLE_PARAMS) == EXAMPLE_SIGNATURE
    assert valid_signature(TOKEN, EXAMPLE_URL, EXAMPLE_SIGNATURE, EXAMPLE_PARAMS)


def test_websocket_signature_is_over_the_url_alone() -> None:
    url = "wss://voice.example.com/twilio/media?tenant=a"
    signature = compute_signature(TOKEN, url)
    assert valid_signature(TOKEN, url, signature)
    assert not valid_signature(TOKEN, url.replace("tenant=a", "tenant=b"), signature)
    assert not valid_signature("another-token", url, signature)
    assert not valid_signature(TOKEN, url, signature[:-2] + "A=")


@pytest.mark.parametrize("signature", [None, "", "not base64 at all"])
def test_missing_or_garbage_signature(signature: str | None) -> None:
    assert not valid_signature(TOKEN, "wss://voice.example.com/twilio/media", signature)


def test_either_port_form_is_accepted() -> None:
    bare, explicit = (
        "wss://voice.example.com/twilio/media",
        "wss://voice.example.com:443/twilio/media",
    )
    assert valid_signature(TOKEN, bare, compute_signature(TOKEN, explicit))
    assert valid_signature(TOKEN, explicit, compute_signature(TOKEN, bare))
    other = "wss://voice.example.com:8443/twilio/media"
    assert not valid_signature(TOKEN, other, compute_signature(TOKEN, bare))


def test_signed_url_from_public_url_or_request() -> None:
    request = "ws://10.0.0.5:8080/twilio/media?tenant=a"
    assert websocket_url(None, request) == request
    assert (
        websocket_url("https://voice.example.com", request)
        == "wss://voice.example.com/twilio/media?tenant=a"
    )
    assert (
        websocket_url("https://example.com/voiceauth/", request)
        == "wss://example.com/voiceauth/twilio/media?tenant=a"
    )
    assert (
        websocket_url("http://127.0.0.1:9000", request)
        == "ws://127.0.0.1:9000/twilio/media?tenant=a"
    )
