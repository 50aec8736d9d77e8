"""Call outcomes: what is kept of each finished call for the KPI report (no biometrics).

Revision ID: 0003_call_outcomes
Revises: 0002_factors
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voiceauth.store.columns import UtcDateTime

revision = "0003_call_outcomes"
down_revision: str | None = "0002_factors"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "call_outcomes",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("transport", sa.String(32), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
        sa.Column("dnis", sa.String(128), nullable=True),
        sa.Column("identified", sa.Boolean(), nullable=False),
        sa.Column("voice_state", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(64), nullable=False),
        sa.Column("factors_verified", sa.JSON(), nullable=False),
        sa.Column("verified_after_s", sa.Float(), nullable=True),
        sa.Column("decided_after_speech_s", sa.Float(), nullable=True),
        sa.Column("end_reason", sa.String(200), nullable=True),
    )
    op.create_index("ix_call_outcomes_started_at", "call_outcomes", ["started_at"])


def downgrade() -> None:
    op.drop_table("call_outcomes")
