"""The generic WebSocket transport (JSON start, binary PCM) for platforms without a dedicated
one, and the WebSocket edges it shares with the Twilio transport."""

from voiceauth.transports.ws.client import play_ws
from voiceauth.transports.ws.endpoint import ROUTE, ws_router

__all__ = ["ROUTE", "play_ws", "ws_router"]
