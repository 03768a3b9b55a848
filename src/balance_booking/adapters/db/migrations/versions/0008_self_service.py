"""Self-service and admin bookings: the change cut-off, moves, series, optional client e-mail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "services",
        sa.Column("change_cutoff_minutes", sa.Integer, nullable=False, server_default="0"),
    )
    with op.batch_alter_table("appointments") as batch:
        # A client the practitioner books by phone may have no e-mail address.
        batch.alter_column("client_email", existing_type=sa.String(320), nullable=True)
        # How many times the appointment moved: the .ics SEQUENCE.
        batch.add_column(sa.Column("sequence", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("series_id", sa.Uuid, nullable=True))
        batch.create_index("ix_appointments_series", ["series_id"])
    op.create_table(
        "appointment_moves",
        sa.Column(
            "appointment_id",
            sa.Uuid,
            sa.ForeignKey("appointments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("from_start_at", UtcDateTime, nullable=False),
        sa.Column("from_end_at", UtcDateTime, nullable=False),
        sa.Column("to_start_at", UtcDateTime, nullable=False),
        sa.Column("to_end_at", UtcDateTime, nullable=False),
        sa.Column("moved_by", sa.String(10), nullable=False),
        sa.Column("moved_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("appointment_moves")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_index("ix_appointments_series")
        batch.drop_column("series_id")
        batch.drop_column("sequence")
        batch.alter_column("client_email", existing_type=sa.String(320), nullable=False)
    with op.batch_alter_table("services") as batch:
        batch.drop_column("change_cutoff_minutes")
