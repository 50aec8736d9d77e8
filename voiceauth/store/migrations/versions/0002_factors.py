"""Factors: knowledge-factor hashes, attempt counters, OTP destinations and one-time codes.

Revision ID: 0002_factors
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voiceauth.store.columns import UtcDateTime

revision = "0002_factors"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None


def _customer_fk(*, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        "customer_id",
        sa.String(64),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "knowledge_factors",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _customer_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(256), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("customer_id", "kind", "label", name="uq_knowledge_factors_customer"),
    )
    op.create_index("ix_knowledge_factors_customer_id", "knowledge_factors", ["customer_id"])
    op.create_table(
        "factor_counters",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("subject", sa.String(128), primary_key=True),
        sa.Column("window_start", UtcDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "otp_destinations",
        _customer_fk(primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "otp_codes",
        sa.Column("id", sa.String(64), primary_key=True),
        _customer_fk(),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_otp_codes_customer_id", "otp_codes", ["customer_id"])
    op.create_index("ix_otp_codes_call_id", "otp_codes", ["call_id"])


def downgrade() -> None:
    op.drop_table("otp_codes")
    op.drop_table("otp_destinations")
    op.drop_table("factor_counters")
    op.drop_table("knowledge_factors")
