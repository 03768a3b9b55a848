"""Admin accounts and sessions, login attempts, OAuth states, the token refresh lease.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from balance_booking.adapters.db.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations_google_calendar") as batch:
        batch.add_column(sa.Column("refresh_lease_until", UtcDateTime))
    op.create_table(
        "admin_users",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_login_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_admin_users"),
        sa.UniqueConstraint("email", name="uq_admin_users_email"),
    )
    op.create_table(
        "admin_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("admin_id", sa.Integer, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_admin_sessions"),
        sa.ForeignKeyConstraint(
            ["admin_id"],
            ["admin_users.id"],
            name="fk_admin_sessions_admin_id_admin_users",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "admin_login_attempts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("attempted_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_login_attempts"),
    )
    op.create_index(
        "ix_admin_login_attempts_email", "admin_login_attempts", ["email", "attempted_at"]
    )
    op.create_index(
        "ix_admin_login_attempts_ip", "admin_login_attempts", ["client_ip", "attempted_at"]
    )
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("session_hash", sa.String(64)),
        sa.Column("code_verifier_enc", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime),
        sa.PrimaryKeyConstraint("state_hash", name="pk_oauth_states"),
    )


def downgrade() -> None:
    op.drop_table("oauth_states")
    op.drop_index("ix_admin_login_attempts_ip", table_name="admin_login_attempts")
    op.drop_index("ix_admin_login_attempts_email", table_name="admin_login_attempts")
    op.drop_table("admin_login_attempts")
    op.drop_table("admin_sessions")
    op.drop_table("admin_users")
    with op.batch_alter_table("integrations_google_calendar") as batch:
        batch.drop_column("refresh_lease_until")
