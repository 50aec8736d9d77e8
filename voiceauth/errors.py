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


class StoreError(VoiceauthError):
    """The consent and voiceprint store refused or could not complete an operation."""


class StoreUnavailable(StoreError):
    """The database could not be reached or stayed locked; the operation was not confirmed."""


class UnknownRecord(StoreError, LookupError):
    """A customer, voiceprint or watchlist entry that the store does not hold."""

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"unknown {kind}: {record_id!r}")


class UnknownCustomer(UnknownRecord):
    """No customer with this id (or phone number) is on file."""

    def __init__(self, customer_id: str) -> None:
        super().__init__("customer", customer_id)


class DuplicateRecord(StoreError, ValueError):
    """A record that must be unique already exists (customer id, phone number, active consent)."""

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"duplicate {kind}: {record_id!r} already exists")


class NoConsent(StoreError, PermissionError):
    """Biometric processing refused: the customer has no active consent (GDPR Art. 9(2)(a))."""

    def __init__(self, customer_id: str, purpose: str) -> None:
        self.customer_id = customer_id
        self.purpose = purpose
        super().__init__(f"customer {customer_id!r} has no active consent for {purpose!r}")


class MissingKey(StoreError, LookupError):
    """Sealed data names a key id that the configured keyring does not contain."""

    def __init__(self, key_id: str, known: list[str]) -> None:
        self.key_id = key_id
        self.known = known
        super().__init__(
            f"key {key_id!r} is not in the keyring (known: {', '.join(known) or 'none'}); "
            "add it to the keyring or restore it from the key backup"
        )


class WrongKey(StoreError, ValueError):
    """The keyring's key under this id is not the key the data was sealed with."""

    def __init__(self, key_id: str, record: str) -> None:
        self.key_id = key_id
        self.record = record
        super().__init__(
            f"{record}: key {key_id!r} in the keyring is not the key it was sealed with "
            "(wrong key material for this id, or the record's key check was altered)"
        )


class TamperedData(StoreError, ValueError):
    """Sealed data or the audit chain failed its integrity check: it was altered or moved."""


class AuditChainBroken(TamperedData):
    """The audit log's hash chain does not verify at entry `seq`."""

    def __init__(self, seq: int, reason: str) -> None:
        self.seq = seq
        self.reason = reason
        super().__init__(f"audit chain broken at entry {seq}: {reason}")


class InvalidRecord(StoreError, ValueError):
    """A value the store will not keep: a malformed phone number, id, model or time."""


class DirectoryUnavailable(VoiceauthError):
    """The operator's customer directory (CRM) could not answer a caller-ID lookup: down,
    too slow, refusing our token, or answering something that is not its documented JSON."""


class CallError(VoiceauthError):
    """A call-service request that cannot be served; the transport closes with this reason."""


class UnknownCall(CallError, LookupError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"no open call {call_id!r} (never started, or already ended)")
        self.call_id = call_id


class CallExists(CallError, ValueError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id!r} is already open")
        self.call_id = call_id


class CallRejected(CallError):
    """The service takes no new call now: draining on shutdown, or at its call limit."""
