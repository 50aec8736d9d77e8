"""The REST API (FastAPI): `create_app(settings, store, ...)`; keys and scopes in `keys`."""

from voiceauth.api.app import create_app
from voiceauth.api.keys import ApiKeys, Principal, Scope, generate_api_key

__all__ = ["ApiKeys", "Principal", "Scope", "create_app", "generate_api_key"]
