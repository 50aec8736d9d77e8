"""The store's tables (SQLAlchemy 2 typed declarative); rows never leave `voiceauth.store`.

Personal data is kept apart from the audit log on purpose: the log has no foreign key to
`customers`, so an erasure (GDPR Art. 17) deletes every personal row while the log keeps the
bare fact that it happened (Art. 5(2) accountability). Biometric content lives only in the
sealed columns (`sealed`), never in clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from voiceauth.store.columns import UtcDateTime

ID_LENGTH = 64
"""Customer, consent and watchlist ids: UUID hex or a bank's own reference, both fit."""
MODEL_LENGTH = 128
"""`embedder_id@version` strings."""
E164_LENGTH = 16
"""'+' and at most 15 digits (ITU-T E.164)."""
CALL_ID_LENGTH = 128
"""A platform's call id (Twilio CallSid, AudioHook conversation id, SIP Call-ID) or dialled
number (E.164, or a SIP URI)."""


class Base(DeclarativeBase):
    """Declarative base of every store table."""


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    eid_hint: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    phones: Mapped[list[PhoneRow]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="PhoneRow.e164"
    )
    consents: Mapped[list[ConsentRow]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="ConsentRow.granted_at"
    )
    voiceprints: Mapped[list[VoiceprintRow]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="VoiceprintRow.model"
    )


class PhoneRow(Base):
    __tablename__ = "customer_phones"

    e164: Mapped[str] = mapped_column(String(E164_LENGTH), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )

    customer: Mapped[CustomerRow] = relationship(back_populates="phones")


class ConsentRow(Base):
    __tablename__ = "consents"
    # At most one active (not withdrawn) consent per customer and purpose.
    __table_args__ = (
        Index(
            "uq_consents_active",
            "customer_id",
            "purpose",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(64))
    text_version: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    customer: Mapped[CustomerRow] = relationship(back_populates="consents")


class VoiceprintRow(Base):
    __tablename__ = "voiceprints"
    __table_args__ = (UniqueConstraint("customer_id", "model", name="uq_voiceprints_customer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(String(MODEL_LENGTH))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    net_speech_s: Mapped[float] = mapped_column(Float)
    snr_db: Mapped[float | None] = mapped_column(Float)
    source_call_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    customer: Mapped[CustomerRow] = relationship(back_populates="voiceprints")


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_customer", "customer_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class WatchlistRow(Base):
    __tablename__ = "watchlist"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    model: Mapped[str] = mapped_column(String(MODEL_LENGTH), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    case_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# -- factors (voiceauth.factors): knowledge-factor hashes, attempt counters, one-time codes ----


class KnowledgeFactorRow(Base):
    """One knowledge factor (PIN, date of birth, security answer) as an argon2id hash only."""

    __tablename__ = "knowledge_factors"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "label", name="uq_knowledge_factors_customer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64))
    """Which security question an answer belongs to; empty for PIN and date of birth."""
    digest: Mapped[str] = mapped_column(String(256))
    """The argon2 PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FactorCounterRow(Base):
    """Failed factor attempts of one subject (a customer, an ANI, a call) and its lockout."""

    __tablename__ = "factor_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OtpDestinationRow(Base):
    """Where a customer's one-time codes go: an SMS number or an e-mail address."""

    __tablename__ = "otp_destinations"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OtpCodeRow(Base):
    """One issued one-time code, as a keyed HMAC-SHA256 only."""

    __tablename__ = "otp_codes"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    failures: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# -- calls (voiceauth.reporting): what is kept of each finished call, for the KPI report ------


class CallOutcomeRow(Base):
    """One finished call's result (`reporting.CallOutcome`): no customer id, no biometrics."""

    __tablename__ = "call_outcomes"

    call_id: Mapped[str] = mapped_column(String(CALL_ID_LENGTH), primary_key=True)
    transport: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    dnis: Mapped[str | None] = mapped_column(String(CALL_ID_LENGTH))
    identified: Mapped[bool] = mapped_column(Boolean)
    voice_state: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(64))
    factors_verified: Mapped[list[str]] = mapped_column(JSON)
    verified_after_s: Mapped[float | None] = mapped_column(Float)
    decided_after_speech_s: Mapped[float | None] = mapped_column(Float)
    end_reason: Mapped[str | None] = mapped_column(String(200))
