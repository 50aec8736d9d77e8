from __future__ import annotations

import asyncio
import email
from email.message import Message as EmailMessage

import pytest

from voiceauth.errors import ConfigError
from voiceauth.factors import HttpSmsNotifier, Message, NotifierError, SmtpNotifier

from .receivers import free_port, sms_gateway, smtp_server


def test_smtp_notifier_delivers_to_a_real_smtp_server() -> None:
    with smtp_server() as (mailbox, port):
        notifier = SmtpNotifier(f"smtp://127.0.0.1:{port}", sender="codes@bank.example")
        asyncio.run(notifier.send(Message("email", "kim@example.org", "Code", "Your code 042917")))
    (envelope,) = mailbox.received
    assert envelope.mail_from == "codes@bank.example"
    assert envelope.rcpt_tos == ["kim@example.org"]
    assert isinstance(envelope.content, bytes)
    parsed: EmailMessage = email.message_from_bytes(envelope.content)
    assert parsed["Subject"] == "Code"
    assert "Your code 042917" in parsed.get_payload()


def test_smtp_refuses_credentials_without_tls_and_names_no_secret() -> None:
    with smtp_server() as (mailbox, port):
        notifier = SmtpNotifier(f"smtp://u:pw@127.0.0.1:{port}", sender="codes@bank.example")
        with pytest.raises(NotifierError, match="no TLS") as caught:
            asyncio.run(notifier.send(Message("email", "kim@example.org", "Code", "code 1")))
    assert mailbox.received == []
    assert "pw" not in str(caught.value) and "kim@" not in str(caught.value)


def test_smtp_server_down_is_a_notifier_error() -> None:
    notifier = SmtpNotifier(f"smtp://127.0.0.1:{free_port()}", sender="a@b.example")
    with pytest.raises(NotifierError, match="delivery failed"):
        asyncio.run(notifier.send(Message("email", "kim@example.org", "Code", "123456")))


def test_sms_notifier_posts_the_template_to_a_real_http_server() -> None:
    template = '{"messages": [{"destination": "{to}", "body": "{text}"}], "src": "{sender}"}'
    with sms_gateway() as (gateway, url):
        notifier = HttpSmsNotifier(url, sender="BANK", body_template=template, token="t0k")
        asyncio.run(notifier.send(Message("sms", "+4915112345678", "", 'code "1" \\ 2')))
    ((headers, body),) = gateway.requests
    assert headers["Authorization"] == "Bearer t0k"
    assert body == {
        "messages": [{"destination": "+4915112345678", "body": 'code "1" \\ 2'}],
        "src": "BANK",
    }


def test_sms_gateway_errors() -> None:
    with sms_gateway() as (gateway, url):
        gateway.status = 500
        notifier = HttpSmsNotifier(url, sender="BANK")
        with pytest.raises(NotifierError, match="HTTP 500") as caught:
            asyncio.run(notifier.send(Message("sms", "+4915112345678", "", "code 123456")))
    assert "123456" not in str(caught.value)
    with pytest.raises(NotifierError, match="no answer"):
        down = HttpSmsNotifier(f"http://127.0.0.1:{free_port()}/", sender="BANK")
        asyncio.run(down.send(Message("sms", "+4915112345678", "", "x")))


def test_bad_configuration_is_named() -> None:
    with pytest.raises(ConfigError, match="not JSON"):
        HttpSmsNotifier("http://x/", sender="B", body_template="{to}")
    with pytest.raises(ConfigError, match="placeholders"):
        HttpSmsNotifier("http://x/", sender="B", body_template='{"to": "{to}"}')
    with pytest.raises(ConfigError, match="SMTP URL"):
        SmtpNotifier("http://mail.example", sender="a@b.example")


def test_message_repr_hides_the_text() -> None:
    assert "424242" not in repr(Message("sms", "+4915112345678", "", "code 424242"))
