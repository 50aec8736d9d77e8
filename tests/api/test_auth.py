"""API keys and scopes on every route, and the OpenAPI schema that documents them."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from voiceauth.api import ApiKeys, Scope, create_app, generate_api_key, reports
from voiceauth.api.keys import key_digest
from voiceauth.api.routes import router
from voiceauth.errors import ConfigError
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore

from .conftest import headers

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def test_missing_unknown_and_wrong_scope(client: TestClient) -> None:
    assert client.get("/watchlist").status_code == 401
    assert client.get("/watchlist", headers={"X-API-Key": "guess"}).status_code == 401
    assert client.get("/watchlist", headers=headers("desk")).status_code == 403
    assert client.get("/watchlist", headers=headers("dpo")).json() == []
    body = {"customer_id": "c-1"}
    assert client.post("/customers", json=body, headers=headers("ivr")).status_code == 403
    assert client.post("/customers", json=body, headers=headers("desk")).status_code == 201
    assert client.delete("/customers/c-1", headers=headers("desk")).status_code == 403


def test_openapi_lists_every_route_and_the_key_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key with the route's scope (telephony, agent or admin).",
    }
    documented = {(path, method.upper()) for path, ops in schema["paths"].items() for method in ops}
    routes = {
        (route.path, method)
        for route in [*router.routes, *reports.router.routes]
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert len(routes) == 16 and documented == routes
    for ops in schema["paths"].values():
        for op in ops.values():
            assert op["security"] == [{"ApiKey": []}]


def test_key_configuration(store: VoiceprintStore) -> None:
    key, line = generate_api_key("ops", [Scope.ADMIN, Scope.AGENT])
    assert line == f"ops:admin+agent:{key_digest(key)}" and key not in line
    keys = ApiKeys.parse(line)
    principal = keys.authenticate(key)
    assert principal is not None and principal.scopes == {Scope.ADMIN, Scope.AGENT}
    assert keys.authenticate(key + "x") is None
    with pytest.raises(ConfigError, match="expected a SHA-256 hex digest, not a key"):
        ApiKeys.parse(f"ops:admin:{key}")
    with pytest.raises(ConfigError, match="unknown scope"):
        ApiKeys.parse(f"ops:root:{key_digest(key)}")
    with pytest.raises(ConfigError, match="no API keys configured"):
        create_app(Settings(), store)
