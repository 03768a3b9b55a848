"""Already booked: when the confirmation was last sent again (at most once per 10 minutes).

Revision ID: 0015
Revises: 0014
Create Date: 2027-02-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("appointments", sa.Column("confirmation_resent_at", UtcDateTime))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table where it cannot drop a column in place.
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("confirmation_resent_at")
