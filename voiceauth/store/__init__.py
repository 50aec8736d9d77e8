"""Consent and voiceprint store: customers, consents, sealed voiceprints, watchlist, audit chain.

SQLite by default, PostgreSQL in production; see `service.VoiceprintStore` for the API,
`sealing` for encryption at rest, `audit` for the hash chain and `anchor` for its head kept
outside the database.
"""

from voiceauth.errors import StoreUnavailable
from voiceauth.store.anchor import AuditAnchor
from voiceauth.store.clock import Clock, system_clock
from voiceauth.store.engine import make_engine
from voiceauth.store.keyring import Keyring, generate_key
from voiceauth.store.records import (
    VOICE_BIOMETRICS,
    AuditEntry,
    ChainHead,
    Consent,
    ConsentChannel,
    Customer,
    CustomerStatus,
    ErasureReport,
    RetentionReport,
    VoiceprintInfo,
    WatchlistEntry,
)
from voiceauth.store.rotation import RotationReport, rotate
from voiceauth.store.schema import current_revision, head_revision, upgrade
from voiceauth.store.service import VoiceprintStore

__all__ = [
    "VOICE_BIOMETRICS",
    "AuditAnchor",
    "AuditEntry",
    "ChainHead",
    "Clock",
    "Consent",
    "ConsentChannel",
    "Customer",
    "CustomerStatus",
    "ErasureReport",
    "Keyring",
    "RetentionReport",
    "RotationReport",
    "StoreUnavailable",
    "VoiceprintInfo",
    "VoiceprintStore",
    "WatchlistEntry",
    "current_revision",
    "generate_key",
    "head_revision",
    "make_engine",
    "rotate",
    "system_clock",
    "upgrade",
]
