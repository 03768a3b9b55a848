"""The Google side: the busy-time mirror, the integration row, pending OAuth authorizations."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.changes import ChangeTracker
from balance_booking.adapters.db.types import UtcDateTime
from balance_booking.application.ports import (
    CalendarLink,
    IntegrationRecord,
    OAuthState,
)
from balance_booking.application.ports.integration import blocking_ids
from balance_booking.domain.calendar_account import IntegrationStatus
from balance_booking.domain.intervals import Interval, stored_interval, subtract

_CONNECTED_STATUSES = ("connected", "needs_reauth", "error")
_ROW_ID = 1
_RECORD_FIELDS = tuple(
    name for name in IntegrationRecord.__dataclass_fields__ if name != "granted_scopes"
)


# The slots miss path reads these on every request: built once, a statement is only bound and
# executed (building one, with its cache key, cost more than running it on SQLite).


@cache
def _busy_overlapping() -> Any:
    c = t.calendar_busy_intervals.c
    return (
        select(c.start_at, c.end_at)
        .where(
            c.start_at < bindparam("end", type_=UtcDateTime),
            c.end_at > bindparam("start", type_=UtcDateTime),
        )
        .order_by(c.start_at)
    )


@cache
def _calendar_link() -> Any:
    c = t.integrations_google_calendar.c
    return select(
        c.status, c.last_success_at, c.enabled, c.timezone, c.blocking_calendar_ids
    ).where(c.id == _ROW_ID)


class SqlBusy:
    """The busy mirror imported from Google Calendar."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def overlapping(self, window: Interval) -> list[Interval]:
        rows = self._connection.execute(
            _busy_overlapping(), {"start": window.start, "end": window.end}
        )
        return [stored_interval(start, end) for start, end in rows.all()]

    def clear(self) -> None:
        self._changes.mark()
        self._connection.execute(delete(t.calendar_busy_intervals))

    def forget(self, interval: Interval) -> None:
        c = t.calendar_busy_intervals.c
        rows = list(
            self._connection.execute(
                select(c.id, c.start_at, c.end_at, c.source).where(
                    c.start_at < interval.end, c.end_at > interval.start
                )
            )
        )
        if not rows:
            return
        self._changes.mark()
        self._connection.execute(
            delete(t.calendar_busy_intervals).where(c.id.in_([row.id for row in rows]))
        )
        pieces = [
            {"start_at": piece.start, "end_at": piece.end, "source": row.source}
            for row in rows
            for piece in subtract([Interval(row.start_at, row.end_at)], [interval])
        ]
        if pieces:
            self._connection.execute(insert(t.calendar_busy_intervals), pieces)

    def replace_all(self, intervals: list[Interval], *, source: str) -> bool:
        """Swap the whole mirror in this transaction; True when its content changed."""
        c = t.calendar_busy_intervals.c
        current = [
            (row.start_at, row.end_at)
            for row in self._connection.execute(
                select(c.start_at, c.end_at).order_by(c.start_at, c.end_at)
            )
        ]
        fresh = sorted((i.start, i.end) for i in intervals)
        if current == fresh:
            return False
        self._changes.mark()
        self._connection.execute(delete(t.calendar_busy_intervals))
        if fresh:
            self._connection.execute(
                insert(t.calendar_busy_intervals),
                [{"start_at": s, "end_at": e, "source": source} for s, e in fresh],
            )
        return True


class SqlIntegration:
    """The single Google Calendar integration row (one owner in release 1)."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def calendar_link(self) -> CalendarLink:
        row = self._connection.execute(_calendar_link()).first()
        if row is None:
            return CalendarLink(connected=False, last_success_at=None, enabled_override=None)
        return CalendarLink(
            connected=row.status in _CONNECTED_STATUSES,
            last_success_at=row.last_success_at,
            enabled_override=row.enabled,
            timezone=row.timezone,
            blocking_calendar_ids=blocking_ids(row.blocking_calendar_ids),
        )

    def get(self) -> IntegrationRecord:
        return self._read(lock=False)

    def get_for_update(self) -> IntegrationRecord:
        return self._read(lock=True)

    def _read(self, *, lock: bool) -> IntegrationRecord:
        query = select(t.integrations_google_calendar).where(
            t.integrations_google_calendar.c.id == _ROW_ID
        )
        if lock and self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        if row is None:
            return IntegrationRecord()
        values = row._asdict()
        scopes = values.pop("granted_scopes") or ""
        kept = {name: values[name] for name in _RECORD_FIELDS if name in values}
        kept["status"] = IntegrationStatus(kept["status"])
        return IntegrationRecord(granted_scopes=frozenset(scopes.split()), **kept)

    def save(self, record: IntegrationRecord, *, now: datetime) -> None:
        # Status, the flag and the last successful sync all change what slots may be offered.
        self._changes.mark()
        values = {name: getattr(record, name) for name in _RECORD_FIELDS}
        values["status"] = record.status.value
        values["granted_scopes"] = " ".join(sorted(record.granted_scopes)) or None
        values["updated_at"] = now
        table = t.integrations_google_calendar
        updated = self._connection.execute(
            update(table).where(table.c.id == _ROW_ID).values(**values)
        )
        if updated.rowcount == 0:
            self._connection.execute(insert(table).values(id=_ROW_ID, **values))

    def busy_count(self) -> int:
        return int(
            self._connection.execute(
                select(func.count()).select_from(t.calendar_busy_intervals)
            ).scalar_one()
        )

    def advance_push_message(self, *, channel_id: str, number: int) -> bool:
        # One conditional UPDATE: concurrent deliveries (threads or processes) cannot both win.
        c = t.integrations_google_calendar.c
        last = func.coalesce(c.push_last_message_number, 0)
        updated = self._connection.execute(
            update(t.integrations_google_calendar)
            .where(c.id == _ROW_ID, c.push_channel_id == channel_id, last < number)
            .values(push_last_message_number=number)
        )
        return updated.rowcount == 1


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
