"""Booking: outbox, idempotency keys, waitlist, tracking events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("appointment_id", sa.Uuid, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("locked_until", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("appointment_id", sa.Uuid, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_idempotency_keys"),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("service_slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("preferred_from", UtcDateTime),
        sa.Column("preferred_to", UtcDateTime),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_waitlist_entries"),
    )
    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("occurred_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_events"),
    )


def downgrade() -> None:
    op.drop_table("tracking_events")
    op.drop_table("waitlist_entries")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
