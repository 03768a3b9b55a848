"""SQLAlchemy Core tables: the one description of the schema that migrations must match."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from balance_booking.adapters.db.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

services = Table(
    "services",
    metadata,
    Column("slug", String(63), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("title_en", String(200)),
    Column("duration_minutes", Integer, nullable=False),
    Column("buffer_before_minutes", Integer, nullable=False),
    Column("buffer_after_minutes", Integer, nullable=False),
    Column("slot_step_minutes", Integer),
    Column("min_notice_minutes", Integer, nullable=False),
    Column("max_days_ahead", Integer, nullable=False),
    Column("daily_limit", Integer),
    Column("requires_payment", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
    Column("change_cutoff_minutes", Integer, nullable=False, server_default="0"),
    # What a first-time client learns (migration 0013). The price is exact: hundredths of the
    # currency unit with its ISO 4217 code, both or neither (the domain's Price).
    Column("description", Text),
    Column("description_en", Text),
    Column("price_minor", BigInteger),
    Column("price_currency", String(3)),
    Column("format", String(10), nullable=False, server_default="either"),
    Column("location", Text),
)

practice_settings = Table(
    "practice_settings",
    metadata,
    Column("key", String(63), primary_key=True),
    Column("value", Text, nullable=False),
)

availability_rules = Table(
    "availability_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("weekday", Integer, nullable=False),
    Column("start_minute", Integer, nullable=False),
    Column("end_minute", Integer, nullable=False),
)

# A row with NULL minutes marks a day off; otherwise each row is one replacement window.
availability_overrides = Table(
    "availability_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("on_date", Date, nullable=False, index=True),
    Column("start_minute", Integer),
    Column("end_minute", Integer),
)

# A vacation: every date from first_date to last_date (both included) is a day off.
availability_vacations = Table(
    "availability_vacations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
)

integrations_google_calendar = Table(
    "integrations_google_calendar",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("enabled", Boolean),
    Column("calendar_id", String(255)),
    Column("account_email", String(320)),
    Column("timezone", String(64)),
    Column("access_token_enc", Text),
    Column("refresh_token_enc", Text),
    Column("token_expires_at", UtcDateTime),
    Column("granted_scopes", Text),
    Column("last_sync_at", UtcDateTime),
    Column("last_sync_ok", Boolean),
    Column("last_sync_error", Text),
    Column("last_success_at", UtcDateTime),
    Column("push_channel_id", String(64)),
    Column("push_resource_id", String(255)),
    Column("push_token_hash", String(64)),
    Column("push_expires_at", UtcDateTime),
    Column("push_last_message_number", BigInteger),
    # A short lease instead of a lock held across the call to Google: one refresher at a time.
    Column("refresh_lease_until", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    # What the last sync's reconciliation of our exported events did (migration 0005).
    Column("last_reconcile_at", UtcDateTime),
    Column("last_reconcile_summary", Text),
    # Google fidelity, round 2 (migration 0012): grant lifetime, failure holds, calendars.
    Column("consented_at", UtcDateTime),
    Column("refresh_token_expires_at", UtcDateTime),
    Column("oauth_client_rejected_at", UtcDateTime),
    Column("google_writes_paused_until", UtcDateTime),
    Column("blocking_calendar_ids", Text),
)

calendar_busy_intervals = Table(
    "calendar_busy_intervals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("source", String(32), nullable=False),
    Index("ix_calendar_busy_intervals_range", "start_at", "end_at"),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service_slug", String(63), ForeignKey("services.slug"), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    # The buffered interval: what the exclusion constraint and the slot engine compare.
    Column("blocked_start_at", UtcDateTime, nullable=False),
    Column("blocked_end_at", UtcDateTime, nullable=False),
    Column("buffer_before_minutes", Integer, nullable=False),
    Column("buffer_after_minutes", Integer, nullable=False),
    Column("client_timezone", String(64), nullable=False),
    Column("language", String(8), nullable=False, server_default="ru"),
    Column("client_name", String(200), nullable=False),
    Column("client_email", String(320)),  # None: booked by the admin without one
    Column("client_phone", String(40)),
    Column("comment", Text),
    Column("status", String(20), nullable=False),
    Column("hold_expires_at", UtcDateTime),
    Column("manage_token_hash", String(64)),
    Column("google_event_id", String(64)),
    Column("calendar_sync_state", String(20), nullable=False),
    Column("idempotency_key", String(255), unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sequence", Integer, nullable=False, server_default="0"),  # moves so far (.ics)
    Column("series_id", Uuid),  # a weekly series booked by the admin
    # Privacy (migration 0010): when the client's fields were erased, and an erasure waiting for
    # the cancellation e-mail that still needs the address (docs/privacy.md).
    Column("erased_at", UtcDateTime),
    Column("erase_requested_at", UtcDateTime),
    # When the confirmation was last sent again to a client booking their own slot once more
    # (409 already_booked; migration 0015): at most once per 10 minutes.
    Column("confirmation_resent_at", UtcDateTime),
    Index("ix_appointments_blocked", "blocked_start_at", "blocked_end_at"),
    Index("ix_appointments_series", "series_id"),
    Index("ix_appointments_end_at", "end_at"),
)

# Where an appointment was before each move (kept for the admin).
appointment_moves = Table(
    "appointment_moves",
    metadata,
    Column(
        "appointment_id",
        Uuid,
        ForeignKey("appointments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("sequence", Integer, primary_key=True),
    Column("from_start_at", UtcDateTime, nullable=False),
    Column("from_end_at", UtcDateTime, nullable=False),
    Column("to_start_at", UtcDateTime, nullable=False),
    Column("to_end_at", UtcDateTime, nullable=False),
    Column("moved_by", String(10), nullable=False),
    Column("moved_at", UtcDateTime, nullable=False),
)

admin_api_tokens = Table(
    "admin_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),  # None: never expires
    Column("last_used_at", UtcDateTime),
)

# Counters for throttling (public write limits, sign-in slow-down): one row per key.
throttle_counters = Table(
    "throttle_counters",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Index("ix_throttle_counters_last_at", "last_at"),
)

admin_users = Table(
    "admin_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime),
)

# Server-side sessions: the cookie carries a random id, the table only its hash.
admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("admin_id", Integer, ForeignKey("admin_users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

admin_login_attempts = Table(
    "admin_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("client_ip", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Index("ix_admin_login_attempts_email", "email", "attempted_at"),
    Index("ix_admin_login_attempts_ip", "client_ip", "attempted_at"),
)

oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("session_hash", String(64)),
    Column("code_verifier_enc", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

# One counter, bumped in every transaction that changes what slots depend on; web processes
# compare it to drop cached availability (DESIGN.md section 9).
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Domain events waiting for delivery to Google (written in the transaction that raised them).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # OutboxKind: who delivers it
    Column("topic", String(64), nullable=False),  # e.g. the domain event's name
    # What it belongs to: an appointment, a waitlist entry, or nothing.
    Column("appointment_id", Uuid),
    Column("waitlist_entry_id", Uuid),
    Column("dedup_key", String(200), unique=True),  # at most one message per key, ever
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | parked
    Column("attempts", Integer, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),  # scheduled for (reminders)
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("first_failed_at", UtcDateTime),  # for a kind's give_up_after
    Column("locked_until", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_appointment", "appointment_id", "kind"),  # the ordering guard of claims
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("appointment_id", Uuid, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

waitlist_entries = Table(
    "waitlist_entries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service_slug", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(40)),
    Column("timezone", String(64), nullable=False),
    Column("preferred_from", UtcDateTime),
    Column("preferred_to", UtcDateTime),
    Column("comment", Text),
    Column("created_at", UtcDateTime, nullable=False),
    # Waitlist offers (migration 0011): waiting | offered | booked | expired.
    Column("status", String(16), nullable=False, server_default="waiting"),
    Column("notified_at", UtcDateTime),  # an entry without a window, told free times are back
    Column("language", String(8), nullable=False, server_default="ru"),  # of its e-mails
    Index("ix_waitlist_entries_status", "status", "created_at"),
)

# A freed slot held for one waitlist entry until it accepts, declines or the offer expires.
waitlist_offers = Table(
    "waitlist_offers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "entry_id",
        Uuid,
        ForeignKey("waitlist_entries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("service_slug", String(63), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("buffer_before_minutes", Integer, nullable=False),
    Column("buffer_after_minutes", Integer, nullable=False),
    # The buffered interval it holds, like an appointment's.
    Column("blocked_start_at", UtcDateTime, nullable=False),
    Column("blocked_end_at", UtcDateTime, nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column(
        "status", String(16), nullable=False
    ),  # open | accepted | declined | expired | withdrawn
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("appointment_id", Uuid),  # the booking an accepted offer became
    Index("ix_waitlist_offers_open", "status", "blocked_start_at", "blocked_end_at"),
)

tracking_events = Table(
    "tracking_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event", String(64), nullable=False),
    Column("properties", Text, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
)

# What a client agreed to (PRIVACY_POLICY_URL) and when, per booking or waitlist entry; it holds
# no personal data, so it outlives the erasure of the fields it was given for.
consents = Table(
    "consents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("appointment_id", Uuid, index=True),
    Column("waitlist_entry_id", Uuid, index=True),
    Column("policy_url", String(500), nullable=False),
    Column("given_at", UtcDateTime, nullable=False),
)

# Every admin action, written in the transaction of the change (application/audit.py).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(500)),
    Column("ip", String(64)),
)
