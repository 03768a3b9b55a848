"""Repositories for admin accounts, sessions, login attempts and pending OAuth states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from balance_booking.adapters.db import tables as t
from balance_booking.application.ports import AdminSession, AdminUser, OAuthState


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
    """Login attempts, kept for rate limiting and the audit trail."""

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

    def failures_since(self, *, email: str, client_ip: str, since: datetime) -> tuple[int, int]:
        c = t.admin_login_attempts.c
        failed = c.succeeded.is_(False) & (c.attempted_at >= since)
        by_email = self._connection.execute(
            select(func.count()).where(failed, c.email == email.strip().lower())
        ).scalar_one()
        by_ip = self._connection.execute(
            select(func.count()).where(failed, c.client_ip == client_ip)
        ).scalar_one()
        return by_email, by_ip


class SqlOAuthStates:
    """Pending OAuth authorizations (state hash -> encrypted PKCE verifier)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, state: OAuthState, *, created_at: datetime) -> None:
        self._connection.execute(
            insert(t.oauth_states).values(
                state_hash=state.state_hash,
                session_hash=state.session_hash,
                code_verifier_enc=state.code_verifier_enc,
                created_at=created_at,
                expires_at=state.expires_at,
            )
        )

    def get_for_update(self, state_hash: str) -> OAuthState | None:
        c = t.oauth_states.c
        query = select(t.oauth_states).where(c.state_hash == state_hash)
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        if row is None:
            return None
        return OAuthState(
            state_hash=row.state_hash,
            session_hash=row.session_hash,
            code_verifier_enc=row.code_verifier_enc,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    def mark_used(self, state_hash: str, at: datetime) -> None:
        self._connection.execute(
            update(t.oauth_states)
            .where(t.oauth_states.c.state_hash == state_hash)
            .values(used_at=at)
        )

    def delete_expired(self, now: datetime) -> int:
        result = self._connection.execute(
            delete(t.oauth_states).where(t.oauth_states.c.expires_at <= now)
        )
        return result.rowcount

    def all_verifiers(self) -> list[tuple[str, str]]:
        c = t.oauth_states.c
        rows = self._connection.execute(select(c.state_hash, c.code_verifier_enc))
        return [(row.state_hash, row.code_verifier_enc) for row in rows]

    def set_verifier(self, state_hash: str, code_verifier_enc: str) -> None:
        self._connection.execute(
            update(t.oauth_states)
            .where(t.oauth_states.c.state_hash == state_hash)
            .values(code_verifier_enc=code_verifier_enc)
        )
