"""What a first-time client learns about a service: description, price, format, location.

Revision ID: 0013
Revises: 0012
Create Date: 2027-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns and one with a server default: plain ALTER TABLE ADD on both databases.
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("description", sa.Text))
        batch.add_column(sa.Column("description_en", sa.Text))
        # Exact money: hundredths of the currency unit and the ISO 4217 code, never a float.
        batch.add_column(sa.Column("price_minor", sa.BigInteger))
        batch.add_column(sa.Column("price_currency", sa.String(3)))
        batch.add_column(
            sa.Column("format", sa.String(10), nullable=False, server_default="either")
        )
        batch.add_column(sa.Column("location", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("services") as batch:
        batch.drop_column("location")
        batch.drop_column("format")
        batch.drop_column("price_currency")
        batch.drop_column("price_minor")
        batch.drop_column("description_en")
        batch.drop_column("description")
