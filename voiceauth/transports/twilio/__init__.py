"""Twilio Media Streams: the WebSocket endpoint Twilio streams calls into, and a client that
plays a recording the way Twilio would."""

from voiceauth.transports.twilio.client import play_twilio
from voiceauth.transports.twilio.endpoint import ROUTE, twilio_router

__all__ = ["ROUTE", "play_twilio", "twilio_router"]
