"""Admin accounts: users, sessions, login attempts, API tokens; throttle counters."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.types import UtcDateTime
from balance_booking.application.ports import (
    AdminSession,
    AdminToken,
    AdminUser,
    ThrottleCount,
)


class SqlAdminTokens:
    """Hashed admin API tokens."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(
        self,
        *,
        name: str,
        token_hash: str,
        created_at: datetime,
        expires_at: datetime | None = None,
    ) -> AdminToken:
        token_id = self._connection.execute(
            insert(t.admin_api_tokens)
            .values(name=name, token_hash=token_hash, created_at=created_at, expires_at=expires_at)
            .returning(t.admin_api_tokens.c.id)
        ).scalar_one()
        return AdminToken(
            token_id=token_id, name=name, created_at=created_at, expires_at=expires_at
        )

    def find_by_hash(self, token_hash: str) -> AdminToken | None:
        row = self._connection.execute(
            select(*_TOKEN_COLUMNS).where(t.admin_api_tokens.c.token_hash == token_hash)
        ).first()
        return None if row is None else _token(row)

    def list(self) -> list[AdminToken]:
        rows = self._connection.execute(select(*_TOKEN_COLUMNS).order_by(t.admin_api_tokens.c.id))
        return [_token(row) for row in rows]

    def delete(self, token_id: int) -> bool:
        result = self._connection.execute(
            delete(t.admin_api_tokens).where(t.admin_api_tokens.c.id == token_id)
        )
        return bool(result.rowcount)

    def touch(self, token_id: int, *, at: datetime) -> None:
        self._connection.execute(
            update(t.admin_api_tokens)
            .where(t.admin_api_tokens.c.id == token_id)
            .values(last_used_at=at)
        )


_TOKEN_COLUMNS = (
    t.admin_api_tokens.c.id,
    t.admin_api_tokens.c.name,
    t.admin_api_tokens.c.created_at,
    t.admin_api_tokens.c.expires_at,
    t.admin_api_tokens.c.last_used_at,
)


def _token(row: Any) -> AdminToken:
    return AdminToken(
        token_id=row.id,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


class SqlAdminUsers:
    """Admin accounts; emails are compared case-insensitively (stored lower-cased)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, *, email: str, password_hash: str, created_at: datetime) -> AdminUser:
        email = email.strip().lower()
        admin_id = self._connection.execute(
            insert(t.admin_users)
            .values(email=email, password_hash=password_hash, created_at=created_at)
            .returning(t.admin_users.c.id)
        ).scalar_one()
        return AdminUser(admin_id=admin_id, email=email, password_hash=password_hash)

    def by_email(self, email: str) -> AdminUser | None:
        c = t.admin_users.c
        row = self._connection.execute(
            select(c.id, c.email, c.password_hash).where(c.email == email.strip().lower())
        ).first()
        return None if row is None else AdminUser(row.id, row.email, row.password_hash)

    def set_password_hash(self, admin_id: int, password_hash: str) -> None:
        self._connection.execute(
            update(t.admin_users)
            .where(t.admin_users.c.id == admin_id)
            .values(password_hash=password_hash)
        )

    def record_login(self, admin_id: int, at: datetime) -> None:
        self._connection.execute(
            update(t.admin_users).where(t.admin_users.c.id == admin_id).values(last_login_at=at)
        )


class SqlAdminSessions:
    """Server-side sessions keyed by the hash of the cookie value."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, session: AdminSession, *, created_at: datetime) -> None:
        self._connection.execute(
            insert(t.admin_sessions).values(
                id_hash=session.session_hash,
                admin_id=session.admin_id,
                csrf_token=session.csrf_token,
                created_at=created_at,
                expires_at=session.expires_at,
            )
        )

    def get(self, session_hash: str) -> AdminSession | None:
        s, u = t.admin_sessions.c, t.admin_users.c
        row = self._connection.execute(
            select(s.id_hash, s.admin_id, u.email, s.csrf_token, s.expires_at)
            .join_from(t.admin_sessions, t.admin_users, s.admin_id == u.id)
            .where(s.id_hash == session_hash)
        ).first()
        if row is None:
            return None
        return AdminSession(
            session_hash=row.id_hash,
            admin_id=row.admin_id,
            email=row.email,
            csrf_token=row.csrf_token,
            expires_at=row.expires_at,
        )

    def delete(self, session_hash: str) -> None:
        self._connection.execute(
            delete(t.admin_sessions).where(t.admin_sessions.c.id_hash == session_hash)
        )

    def delete_expired(self, now: datetime) -> int:
        result = self._connection.execute(
            delete(t.admin_sessions).where(t.admin_sessions.c.expires_at <= now)
        )
        return result.rowcount


class SqlLoginAttempts:
    """Successful sign-ins, kept for the audit trail (refused ones are only counted)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, *, email: str, client_ip: str, succeeded: bool, at: datetime) -> None:
        self._connection.execute(
            insert(t.admin_login_attempts).values(
                email=email.strip().lower()[:320],
                client_ip=client_ip[:64],
                succeeded=succeeded,
                attempted_at=at,
            )
        )

    def prune(self, *, before: datetime) -> int:
        c = t.admin_login_attempts.c
        result = self._connection.execute(
            delete(t.admin_login_attempts).where(c.attempted_at < before)
        )
        return int(result.rowcount)


class SqlThrottles:
    """Throttle counters: one upserted row per key (INSERT ... ON CONFLICT DO UPDATE, atomic on
    SQLite and PostgreSQL alike)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def hit(self, key: str, *, now: datetime, window: timedelta) -> ThrottleCount:
        statement = _throttle_hit(self._connection.dialect.name)
        count, first_at, last_at = self._connection.execute(
            statement, {"key": key, "now": now, "expired_before": now - window}
        ).one()
        return ThrottleCount(count=count, first_at=first_at, last_at=last_at)

    def peek(self, key: str) -> ThrottleCount | None:
        c = t.throttle_counters.c
        row = self._connection.execute(
            select(c.count, c.first_at, c.last_at).where(c.key == key)
        ).first()
        return None if row is None else ThrottleCount(row[0], row.first_at, row.last_at)

    def reset(self, key: str) -> None:
        self._connection.execute(
            delete(t.throttle_counters).where(t.throttle_counters.c.key == key)
        )

    def prune(self, *, before: datetime) -> int:
        result = self._connection.execute(
            delete(t.throttle_counters).where(t.throttle_counters.c.last_at < before)
        )
        return int(result.rowcount)


@cache
def _throttle_hit(dialect: str) -> Any:
    """The throttle upsert, built once per dialect: every public write runs it, and building
    the statement (and its RETURNING metadata) anew each time cost more than executing it."""
    table = t.throttle_counters
    c = table.c
    insert_of = pg_insert if dialect == "postgresql" else sqlite_insert
    stamp = bindparam("now", type_=UtcDateTime)
    expired = c.first_at <= bindparam("expired_before", type_=UtcDateTime)
    return (
        insert_of(table)
        .values(key=bindparam("key"), count=1, first_at=stamp, last_at=stamp)
        .on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "count": case((expired, 1), else_=c.count + 1),
                "first_at": case((expired, stamp), else_=c.first_at),
                "last_at": stamp,
            },
        )
        .returning(c.count, c.first_at, c.last_at)
    )
