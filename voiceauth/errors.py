"""One error tree for voiceauth.

Every failure a caller can act on has its own class, and its message says what was wrong and
what was expected, so that one log line (or one HTTP response detail) is enough to fix it.
"""

from __future__ import annotations


class VoiceauthError(Exception):
    """Base of every error voiceauth raises on purpose."""


class ConfigError(VoiceauthError, ValueError):
    """A setting, option or configuration file is invalid."""


class AudioFormatError(VoiceauthError, ValueError):
    """Audio that cannot be used as given: unreadable, empty, corrupt, non-finite, wrong layout."""


class InsufficientSpeech(VoiceauthError, ValueError):
    """Too little net speech to compute a trustworthy embedding or score."""

    def __init__(self, net_speech_s: float, required_s: float) -> None:
        self.net_speech_s = net_speech_s
        self.required_s = required_s
        super().__init__(
            f"insufficient net speech: {net_speech_s:.1f} s < {required_s:.1f} s required"
        )


class EmbedderMismatch(VoiceauthError, ValueError):
    """Two embeddings (or an embedding and a cohort or calibration) come from different models."""

    def __init__(self, left: str, right: str) -> None:
        self.left = left
        self.right = right
        super().__init__(
            f"embedder mismatch: {left} cannot be compared with {right}; "
            "re-enrol or re-embed with one embedder"
        )


class ModelNotFound(VoiceauthError, FileNotFoundError):
    """Model weights are missing; the message says how to get them."""


class ModelIntegrityError(VoiceauthError, ValueError):
    """A model file does not match its published size or checksum."""


class MalformedFrame(VoiceauthError, ValueError):
    """A wire-format packet or frame that cannot be parsed."""
