"""Asterisk AudioSocket: the TCP server Asterisk streams a channel's audio into, and a client
that plays a recording the way Asterisk would."""

from voiceauth.transports.audiosocket.client import play_audiosocket
from voiceauth.transports.audiosocket.server import AudioSocketServer

__all__ = ["AudioSocketServer", "play_audiosocket"]
