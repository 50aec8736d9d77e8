"""voiceauth: self-hosted voice-biometrics authentication for inbound contact centres."""

__version__ = "0.1.0"
