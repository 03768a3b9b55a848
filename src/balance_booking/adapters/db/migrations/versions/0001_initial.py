"""Initial schema: services, schedule, integration, busy mirror, appointments, admin tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("slug", sa.String(63), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200)),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer, nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer, nullable=False),
        sa.Column("slot_step_minutes", sa.Integer),
        sa.Column("min_notice_minutes", sa.Integer, nullable=False),
        sa.Column("max_days_ahead", sa.Integer, nullable=False),
        sa.Column("daily_limit", sa.Integer),
        sa.Column("requires_payment", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_services"),
    )
    op.create_table(
        "practice_settings",
        sa.Column("key", sa.String(63), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_practice_settings"),
    )
    op.create_table(
        "availability_rules",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("start_minute", sa.Integer, nullable=False),
        sa.Column("end_minute", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_availability_rules"),
    )
    op.create_table(
        "availability_overrides",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("start_minute", sa.Integer),
        sa.Column("end_minute", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_availability_overrides"),
    )
    op.create_index("ix_availability_overrides_on_date", "availability_overrides", ["on_date"])
    op.create_table(
        "integrations_google_calendar",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean),
        sa.Column("calendar_id", sa.String(255)),
        sa.Column("account_email", sa.String(320)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("access_token_enc", sa.Text),
        sa.Column("refresh_token_enc", sa.Text),
        sa.Column("token_expires_at", UtcDateTime),
        sa.Column("granted_scopes", sa.Text),
        sa.Column("last_sync_at", UtcDateTime),
        sa.Column("last_sync_ok", sa.Boolean),
        sa.Column("last_sync_error", sa.Text),
        sa.Column("last_success_at", UtcDateTime),
        sa.Column("push_channel_id", sa.String(64)),
        sa.Column("push_resource_id", sa.String(255)),
        sa.Column("push_token_hash", sa.String(64)),
        sa.Column("push_expires_at", UtcDateTime),
        sa.Column("push_last_message_number", sa.BigInteger),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_integrations_google_calendar"),
    )
    op.create_table(
        "calendar_busy_intervals",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("start_at", UtcDateTime, nullable=False),
        sa.Column("end_at", UtcDateTime, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_busy_intervals"),
    )
    op.create_index(
        "ix_calendar_busy_intervals_range", "calendar_busy_intervals", ["start_at", "end_at"]
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("service_slug", sa.String(63), nullable=False),
        sa.Column("start_at", UtcDateTime, nullable=False),
        sa.Column("end_at", UtcDateTime, nullable=False),
        sa.Column("blocked_start_at", UtcDateTime, nullable=False),
        sa.Column("blocked_end_at", UtcDateTime, nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer, nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer, nullable=False),
        sa.Column("client_timezone", sa.String(64), nullable=False),
        sa.Column("client_name", sa.String(200), nullable=False),
        sa.Column("client_email", sa.String(320), nullable=False),
        sa.Column("client_phone", sa.String(40)),
        sa.Column("comment", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hold_expires_at", UtcDateTime),
        sa.Column("manage_token_hash", sa.String(64)),
        sa.Column("google_event_id", sa.String(64)),
        sa.Column("calendar_sync_state", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
        sa.ForeignKeyConstraint(
            ["service_slug"], ["services.slug"], name="fk_appointments_service_slug_services"
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_appointments_idempotency_key"),
    )
    op.create_index(
        "ix_appointments_blocked", "appointments", ["blocked_start_at", "blocked_end_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        # The last line against double booking: no two active appointments' buffered intervals
        # may overlap, whatever the application does. SQLite relies on BEGIN IMMEDIATE instead.
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_no_overlap "
            "EXCLUDE USING gist (tstzrange(blocked_start_at, blocked_end_at, '[)') WITH &&) "
            "WHERE (status IN ('pending_payment', 'confirmed'))"
        )
    op.create_table(
        "admin_api_tokens",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_admin_api_tokens_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("admin_api_tokens")
    op.drop_index("ix_appointments_blocked", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_calendar_busy_intervals_range", table_name="calendar_busy_intervals")
    op.drop_table("calendar_busy_intervals")
    op.drop_table("integrations_google_calendar")
    op.drop_index("ix_availability_overrides_on_date", table_name="availability_overrides")
    op.drop_table("availability_overrides")
    op.drop_table("availability_rules")
    op.drop_table("practice_settings")
    op.drop_table("services")
