"""`HttpSmsNotifier`: one-time codes by SMS through an HTTP gateway's JSON API.

Gateways differ only in URL, JSON body and bearer token, so the body is a template:
`{"to": "{to}", "from": "{sender}", "text": "{text}"}` by default. The placeholders are
replaced inside the template's string values after it is parsed as JSON, so a value can
never break out of its string (no injection through a crafted address). Any 2xx answer is
success; anything else, or no answer within the timeout, is a NotifierError.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from voiceauth.errors import ConfigError
from voiceauth.factors.notifier import Channel, Message, NotifierError

TIMEOUT_S = 10.0
PLACEHOLDERS = ("{to}", "{sender}", "{text}")


def _render(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        for key, value in values.items():
            template = template.replace(key, value)
        return template
    if isinstance(template, list):
        return [_render(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _render(item, values) for key, item in template.items()}
    return template


class HttpSmsNotifier:
    """POSTs each message as JSON to `url` (with `Authorization: Bearer token` if given)."""

    def __init__(
        self,
        url: str,
        *,
        sender: str,
        body_template: str = '{"to": "{to}", "from": "{sender}", "text": "{text}"}',
        token: str | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError("SMS gateway URL: need http:// or https://")
        try:
            self._template = json.loads(body_template)
        except json.JSONDecodeError as error:
            raise ConfigError(f"SMS gateway body template is not JSON: {error}") from None
        if "{text}" not in body_template or "{to}" not in body_template:
            raise ConfigError("SMS gateway body template needs the {to} and {text} placeholders")
        self._url = url
        self._sender = sender
        self._headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._timeout_s = timeout_s

    @property
    def channel(self) -> Channel:
        return "sms"

    def __repr__(self) -> str:
        return f"HttpSmsNotifier({httpx.URL(self._url).host})"

    def body(self, message: Message) -> Any:
        """The JSON body for `message` (the template with its placeholders filled)."""
        return _render(
            self._template, {"{to}": message.to, "{sender}": self._sender, "{text}": message.text}
        )

    async def send(self, message: Message) -> None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                answer = await client.post(
                    self._url, json=self.body(message), headers=self._headers
                )
        except httpx.HTTPError as error:
            raise NotifierError(f"{self!r}: no answer ({type(error).__name__})") from None
        if not answer.is_success:
            raise NotifierError(f"{self!r}: answered HTTP {answer.status_code}")
