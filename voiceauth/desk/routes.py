"""`GET /desk` and its two assets, with headers that keep the page to its own origin.

The files are public (no key): the page asks for the agent's key and sends it with each data
call. A fixed list of assets means no path from the URL ever reaches the file system.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
ASSETS = {"desk.js": "text/javascript", "desk.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
"""No inline script or style, no other origin, never framed (clickjacking on the consent button),
and no form submission by the browser itself: a key typed before the script ran stays off the
URL."""


def _file(name: str, media_type: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type=media_type, headers=SECURITY_HEADERS)


def desk_router() -> APIRouter:
    router = APIRouter(tags=["desk"])

    @router.get("/desk", description="The agent desk page. No key needed; its data calls need one.")
    async def page() -> FileResponse:
        return _file("index.html", "text/html; charset=utf-8")

    @router.get("/desk/static/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, "no such asset")
        return _file(name, ASSETS[name])

    return router
