"""One outbox, several kinds: a kind, a schedule, an optional owner and a de-duplication key.

Every existing row was a Google Calendar write, due since it was created.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added nullable, filled, then made NOT NULL: works on both databases and on a full table.
    op.add_column("outbox", sa.Column("kind", sa.String(32)))
    op.add_column("outbox", sa.Column("waitlist_entry_id", sa.Uuid))
    op.add_column("outbox", sa.Column("dedup_key", sa.String(200)))
    op.add_column("outbox", sa.Column("not_before", UtcDateTime))
    op.add_column("outbox", sa.Column("first_failed_at", UtcDateTime))
    op.execute("UPDATE outbox SET kind = 'google_calendar', not_before = created_at")
    # Batch mode: SQLite rebuilds the table where it cannot alter a column in place.
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("kind", existing_type=sa.String(32), nullable=False)
        batch.alter_column("not_before", existing_type=UtcDateTime, nullable=False)
        batch.alter_column("appointment_id", existing_type=sa.Uuid, nullable=True)
        batch.alter_column(
            "event_type", new_column_name="topic", existing_type=sa.String(64), nullable=False
        )
        batch.create_unique_constraint("uq_outbox_dedup_key", ["dedup_key"])
    op.create_index("ix_outbox_appointment", "outbox", ["appointment_id", "kind"])


def downgrade() -> None:
    # Release 1 knows only Google writes of an appointment: any other message is dropped.
    op.execute("DELETE FROM outbox WHERE kind <> 'google_calendar' OR appointment_id IS NULL")
    op.drop_index("ix_outbox_appointment", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_dedup_key", type_="unique")
        batch.alter_column(
            "topic", new_column_name="event_type", existing_type=sa.String(64), nullable=False
        )
        batch.alter_column("appointment_id", existing_type=sa.Uuid, nullable=False)
        batch.drop_column("first_failed_at")
        batch.drop_column("not_before")
        batch.drop_column("dedup_key")
        batch.drop_column("waitlist_entry_id")
        batch.drop_column("kind")
