"""The language a client reads our messages in, stored with the appointment.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every earlier booking was made on the Russian-first pages.
    op.add_column(
        "appointments",
        sa.Column("language", sa.String(8), nullable=False, server_default="ru"),
    )


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("language")
