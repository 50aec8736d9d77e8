"""RTP over UDP (RFC 3550): one port per call leg, G.711 and L16 audio, RFC 4733 DTMF; and a
client that plays a recording as a phone's media would."""

from voiceauth.transports.rtp.client import SendStats, send_rtp
from voiceauth.transports.rtp.payload import Encoding, PayloadTypes
from voiceauth.transports.rtp.server import END_IDLE, TRANSPORT, RtpServer

__all__ = [
    "END_IDLE",
    "TRANSPORT",
    "Encoding",
    "PayloadTypes",
    "RtpServer",
    "SendStats",
    "send_rtp",
]
