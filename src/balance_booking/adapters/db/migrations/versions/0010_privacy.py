"""Privacy and data rights: consent records, the admin audit log, and erasure marks on
appointments (API.md "Privacy and data rights"; docs/privacy.md).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What a client agreed to and when; linked to the booking or waitlist entry, no personal data.
    op.create_table(
        "consents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("appointment_id", sa.Uuid, nullable=True),
        sa.Column("waitlist_entry_id", sa.Uuid, nullable=True),
        sa.Column("policy_url", sa.String(500), nullable=False),
        sa.Column("given_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_consents_appointment_id", "consents", ["appointment_id"])
    op.create_index("ix_consents_waitlist_entry_id", "consents", ["waitlist_entry_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(500), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    with op.batch_alter_table("appointments") as batch:
        # When the client's fields were erased (retention or a data request); None: still there.
        batch.add_column(sa.Column("erased_at", UtcDateTime, nullable=True))
        # An erasure waiting for the cancellation e-mail that still needs the address.
        batch.add_column(sa.Column("erase_requested_at", UtcDateTime, nullable=True))
    op.create_index("ix_appointments_end_at", "appointments", ["end_at"])


def downgrade() -> None:
    op.drop_index("ix_appointments_end_at", "appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("erase_requested_at")
        batch.drop_column("erased_at")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_consents_waitlist_entry_id", "consents")
    op.drop_index("ix_consents_appointment_id", "consents")
    op.drop_table("consents")
