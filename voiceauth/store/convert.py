"""Rows to records at the store's boundary (see `records` for why rows never leave)."""

from __future__ import annotations

from voiceauth.store.records import (
    Consent,
    ConsentChannel,
    Customer,
    CustomerStatus,
    VoiceprintInfo,
    WatchlistEntry,
)
from voiceauth.store.tables import ConsentRow, CustomerRow, VoiceprintRow, WatchlistRow


def customer(row: CustomerRow) -> Customer:
    return Customer(
        row.id,
        CustomerStatus(row.status),
        row.eid_hint,
        tuple(p.e164 for p in row.phones),
        row.created_at,
    )


def consent(row: ConsentRow) -> Consent:
    return Consent(
        row.id,
        row.customer_id,
        row.purpose,
        row.text_version,
        ConsentChannel(row.channel),
        row.evidence,
        row.granted_at,
        row.withdrawn_at,
    )


def voiceprint(row: VoiceprintRow) -> VoiceprintInfo:
    return VoiceprintInfo(
        row.customer_id,
        row.model,
        row.key_id,
        row.net_speech_s,
        row.snr_db,
        tuple(row.source_call_ids),
        row.created_at,
        row.updated_at,
        row.last_used_at,
    )


def watchlist_entry(row: WatchlistRow) -> WatchlistEntry:
    return WatchlistEntry(row.id, row.model, row.key_id, row.reason, row.case_id, row.created_at)
