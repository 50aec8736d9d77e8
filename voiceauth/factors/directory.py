"""Caller-ID lookup in the operator's CRM over REST, for customers not in the local table.

The URL is a template with `{ani}` (URL-quoted E.164 number); the customer id is read from
the JSON answer at a dotted path (`customer.id`). A miss (404, no such field) identifies
nobody; an error, a timeout or an answer that is not JSON is `DirectoryUnavailable`, and the
call goes on unclaimed with that reason (keypad entry or the unauthenticated path). Failures
are logged without the number.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from voiceauth.errors import ConfigError, DirectoryUnavailable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 2.0
"""A caller-ID lookup runs while the call is being set up; a slow CRM must not hold it."""


class CrmDirectory:
    def __init__(
        self,
        url_template: str,
        *,
        customer_field: str = "customer_id",
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if "{ani}" not in url_template:
            raise ConfigError(
                "the CRM lookup URL must contain {ani}, e.g. https://crm/api?phone={ani}"
            )
        self._template = url_template
        self._path = customer_field.split(".")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout_s = timeout_s

    async def customer_for(self, ani: str) -> str | None:
        """The customer id the CRM holds for this caller-ID, None when it holds none;
        DirectoryUnavailable when it cannot tell (the call then goes on unidentified, with
        that reason, rather than waiting or failing)."""
        url = self._template.format(ani=quote(ani, safe=""))
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.get(url, headers=self._headers)
        except httpx.HTTPError as exc:
            raise _unavailable(type(exc).__name__) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _unavailable(f"HTTP {response.status_code}")
        try:
            found = _at(response.json(), self._path)
        except ValueError:
            raise _unavailable("an answer that is not JSON") from None
        return found if isinstance(found, str) and found else None


def _unavailable(why: str) -> DirectoryUnavailable:
    log.warning("CRM lookup failed: %s", why)
    return DirectoryUnavailable(f"the CRM could not look the caller-ID up ({why})")


def _at(document: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document
