"""`VoiceprintStore`: customers, consent, voiceprints, rights, watchlist and audit in one API.

Every public operation is one database transaction that also appends its audit entry, so the
change and its record commit together or not at all (a killed process leaves neither). Callers
name themselves (`actor`, e.g. "agent:4711", "system:retention") on each change: the audit log
must say who acted (GDPR Art. 5(2), Art. 30). The operations live by concern: `customers`
(customers, consent), `voiceprints`, `rights` (erasure, export, retention), `watchlist`, and
`core` (transactions, the audit chain and its anchor); `outcomes` (finished calls) holds no
personal data and is the one concern not audited.
"""

from __future__ import annotations

from voiceauth.store.core import VOICEPRINT
from voiceauth.store.customers import CustomerOps
from voiceauth.store.outcomes import OutcomeOps
from voiceauth.store.rights import RightsOps
from voiceauth.store.voiceprints import VoiceprintOps
from voiceauth.store.watchlist import WatchlistOps

__all__ = ["VOICEPRINT", "VoiceprintStore"]


class VoiceprintStore(CustomerOps, VoiceprintOps, RightsOps, WatchlistOps, OutcomeOps):
    """The consent and voiceprint store over one database (SQLite file or PostgreSQL).

    Built as `StoreCore` is (`engine`, `keyring`, `clock`, `anchor`): the schema must exist
    (`voiceauth.store.schema.upgrade`).
    """

    def __enter__(self) -> VoiceprintStore:
        return self
