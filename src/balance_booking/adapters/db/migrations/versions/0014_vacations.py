"""Vacations: a date range of days off in one row instead of one special day per date.

Revision ID: 0014
Revises: 0012
Create Date: 2027-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "availability_vacations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.Column("last_date", sa.Date, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("availability_vacations")
