"""The `X-Twilio-Signature` check: proof that a request (or WebSocket upgrade) comes from Twilio.

Twilio's webhook security scheme: base64(HMAC-SHA1(auth token, full URL + each POST parameter
name and value, sorted by name)). For a Media Streams WebSocket there are no POST parameters
and the URL is the `wss://` URL Twilio connected to, query string included. Behind a TLS proxy
the service cannot see that URL, so it is rebuilt from `public_url` (the service's base URL as
Twilio reaches it). Like Twilio's own validators, the URL is also tried with the default port
added or removed, since either form may have been signed. Comparison is in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"https": 443, "wss": 443, "http": 80, "ws": 80}
WS_SCHEMES = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}


def compute_signature(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """Twilio's signature of `url` and the POST `params` (none for a WebSocket)."""
    fields = params or {}
    message = url + "".join(name + fields[name] for name in sorted(fields))
    digest = hmac.new(auth_token.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _port_variants(url: str) -> list[str]:
    """The URL as given, then with its default port toggled (added if absent, else removed)."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if default is None or parts.port not in (None, default):
        return [url]
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    netloc = prefix + (host if parts.port else f"{host}:{default}")
    return [url, urlunsplit(parts._replace(netloc=netloc))]


def valid_signature(
    auth_token: str, url: str, signature: str | None, params: Mapping[str, str] | None = None
) -> bool:
    """True when `signature` is Twilio's for this URL (either port form) and parameters."""
    if not signature:
        return False
    presented = signature.encode("utf-8")
    matches = [
        hmac.compare_digest(presented, compute_signature(auth_token, variant, params).encode())
        for variant in _port_variants(url)
    ]
    return any(matches)


def websocket_url(public_url: str | None, request_url: str) -> str:
    """The URL Twilio signed for this upgrade: `public_url`'s scheme (as ws/wss), host and
    path prefix with the request's path and query, or the request URL itself when unset."""
    request = urlsplit(request_url)
    if not public_url:
        return request_url
    base = urlsplit(public_url)
    scheme = WS_SCHEMES.get(base.scheme, base.scheme)
    path = base.path.rstrip("/") + request.path
    return urlunsplit((scheme, base.netloc, path, request.query, ""))
