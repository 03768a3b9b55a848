"""The public edge: throttle counters (public write limits, sign-in slow-down) and the admin
token lifecycle (expiry, last use).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per throttled key (e.g. a client address, or an account and an address): a count
    # since `first_at`, not a row per request; old rows are pruned.
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_at", UtcDateTime, nullable=False),
        sa.Column("last_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_throttle_counters_last_at", "throttle_counters", ["last_at"])
    with op.batch_alter_table("admin_api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", UtcDateTime, nullable=True))
        batch.add_column(sa.Column("last_used_at", UtcDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("admin_api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
    op.drop_index("ix_throttle_counters_last_at", "throttle_counters")
    op.drop_table("throttle_counters")
