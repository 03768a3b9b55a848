"""Export to Google Calendar: the last reconciliation of our exported events, for the admin.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integrations_google_calendar", sa.Column("last_reconcile_at", UtcDateTime))
    op.add_column("integrations_google_calendar", sa.Column("last_reconcile_summary", sa.Text))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table where it cannot drop a column in place.
    with op.batch_alter_table("integrations_google_calendar") as batch:
        batch.drop_column("last_reconcile_summary")
        batch.drop_column("last_reconcile_at")
