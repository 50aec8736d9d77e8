"""Genesys AudioHook (protocol version 2): the WebSocket endpoint Genesys Cloud streams
conversations into, and a client that plays a recording the way Genesys would."""

from voiceauth.transports.audiohook.client import AudioHookSession, play_audiohook
from voiceauth.transports.audiohook.endpoint import ROUTE, audiohook_router

__all__ = ["ROUTE", "AudioHookSession", "audiohook_router", "play_audiohook"]
