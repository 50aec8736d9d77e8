"""Transports: each telephony platform's wire format in, 8 kHz mono PCM frames and DTMF out.

A transport parses and authenticates, then drives a `CallSink` (base.py); it decides nothing
about voices. One subpackage or module per platform: rtp, twilio, audiohook, audiosocket, ws.
"""
