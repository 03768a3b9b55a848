"""Waitlist offers: an entry's state, and the offers that hold a freed slot for it
(API.md "Waitlist offers"; docs/waitlist.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("waitlist_entries") as batch:
        # waiting | offered | booked | expired
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="waiting")
        )
        # An entry without a window is told once that free times are back.
        batch.add_column(sa.Column("notified_at", UtcDateTime, nullable=True))
    op.create_index("ix_waitlist_entries_status", "waitlist_entries", ["status", "created_at"])
    op.create_table(
        "waitlist_offers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "entry_id",
            sa.Uuid,
            sa.ForeignKey("waitlist_entries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("service_slug", sa.String(63), nullable=False),
        sa.Column("start_at", UtcDateTime, nullable=False),
        sa.Column("end_at", UtcDateTime, nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer, nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer, nullable=False),
        sa.Column("blocked_start_at", UtcDateTime, nullable=False),
        sa.Column("blocked_end_at", UtcDateTime, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        # open | accepted | declined | expired | withdrawn
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("decided_at", UtcDateTime, nullable=True),
        sa.Column("appointment_id", sa.Uuid, nullable=True),
    )
    op.create_index("ix_waitlist_offers_entry_id", "waitlist_offers", ["entry_id"])
    op.create_index(
        "ix_waitlist_offers_open",
        "waitlist_offers",
        ["status", "blocked_start_at", "blocked_end_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_waitlist_offers_open", "waitlist_offers")
    op.drop_index("ix_waitlist_offers_entry_id", "waitlist_offers")
    op.drop_table("waitlist_offers")
    op.drop_index("ix_waitlist_entries_status", "waitlist_entries")
    with op.batch_alter_table("waitlist_entries") as batch:
        batch.drop_column("notified_at")
        batch.drop_column("status")
