"""Google fidelity, round 2: the grant's lifetime, holds on Google writes, blocking calendars.

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TABLE = "integrations_google_calendar"


def upgrade() -> None:
    op.add_column(_TABLE, sa.Column("consented_at", UtcDateTime))
    op.add_column(_TABLE, sa.Column("refresh_token_expires_at", UtcDateTime))
    op.add_column(_TABLE, sa.Column("oauth_client_rejected_at", UtcDateTime))
    op.add_column(_TABLE, sa.Column("google_writes_paused_until", UtcDateTime))
    op.add_column(_TABLE, sa.Column("blocking_calendar_ids", sa.Text))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table where it cannot drop a column in place.
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_column("blocking_calendar_ids")
        batch.drop_column("google_writes_paused_until")
        batch.drop_column("oauth_client_rejected_at")
        batch.drop_column("refresh_token_expires_at")
        batch.drop_column("consented_at")
