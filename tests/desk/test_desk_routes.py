"""The desk's files: served without a key, with headers that keep the page to its own origin,
and nothing but the listed assets."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from voiceauth.desk import desk_router


def client() -> TestClient:
    app = FastAPI()
    app.include_router(desk_router())
    return TestClient(app)


def test_page_is_public_and_locked_to_its_origin() -> None:
    page = client().get("/desk")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_page_has_no_inline_script_or_style() -> None:
    html = client().get("/desk").text
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
    assert scripts == [""]  # the one module script, loaded from its file
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son\w+=", html)  # no inline event handlers


def test_assets_have_their_types_and_headers() -> None:
    served = client()
    script = served.get("/desk/static/desk.js")
    style = served.get("/desk/static/desk.css")
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert not re.search(r"\.(inner|outer)HTML|insertAdjacentHTML|document\.write", script.text)
    assert script.headers["x-frame-options"] == style.headers["x-frame-options"] == "DENY"


def test_only_listed_assets_are_served() -> None:
    served = client()
    for name in ("index.html", "..%2Froutes.py", "missing.js"):
        assert served.get(f"/desk/static/{name}").status_code == 404
