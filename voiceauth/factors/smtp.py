"""`SmtpNotifier`: one-time codes by e-mail over SMTP (RFC 5321), with the stdlib `smtplib`.

`smtp://[user:password@]host[:port]` (default port 587) upgrades with STARTTLS (RFC 3207)
whenever the server offers it and refuses to log in over a clear connection;
`smtps://...` (default port 465) speaks TLS from the start (RFC 8314). smtplib blocks, so a
send runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from voiceauth.errors import ConfigError
from voiceauth.factors.notifier import Channel, Message, NotifierError

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT_S = 10.0


class SmtpNotifier:
    """Sends each message as a plain-text e-mail from `sender`."""

    def __init__(
        self,
        url: str,
        *,
        sender: str,
        timeout_s: float = TIMEOUT_S,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ConfigError("SMTP URL: need smtp://[user:password@]host[:port] or smtps://...")
        self._implicit_tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or DEFAULT_PORTS[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        self._sender = sender
        self._timeout_s = timeout_s
        self._tls = tls or ssl.create_default_context()

    @property
    def channel(self) -> Channel:
        return "email"

    def __repr__(self) -> str:
        return f"SmtpNotifier({self._host}:{self._port})"

    async def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.text)
        await asyncio.to_thread(self._send, email)

    def _connect(self) -> smtplib.SMTP:
        if self._implicit_tls:
            return smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout_s, context=self._tls
            )
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)

    def _send(self, email: EmailMessage) -> None:
        try:
            with self._connect() as client:
                client.ehlo()
                secure = self._implicit_tls
                if not secure and client.has_extn("starttls"):
                    client.starttls(context=self._tls)
                    client.ehlo()
                    secure = True
                if self._user is not None:
                    if not secure:
                        raise NotifierError(
                            f"{self!r}: the server offers no TLS; credentials not sent in clear"
                        )
                    client.login(self._user, self._password)
                client.send_message(email)
        except (smtplib.SMTPException, OSError) as error:
            # The exception's text may quote the recipient: only its kind is named.
            raise NotifierError(f"{self!r}: delivery failed ({type(error).__name__})") from None
