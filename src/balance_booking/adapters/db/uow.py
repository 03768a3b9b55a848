"""The unit of work: one connection and one transaction per use-case call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, RootTransaction, update

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.changes import ChangeTracker
from balance_booking.adapters.db.repositories.admin import (
    SqlAdminSessions,
    SqlAdminTokens,
    SqlAdminUsers,
    SqlLoginAttempts,
    SqlThrottles,
)
from balance_booking.adapters.db.repositories.appointments import (
    SqlAppointments,
    SqlIdempotencyKeys,
)
from balance_booking.adapters.db.repositories.calendar import (
    SqlBusy,
    SqlIntegration,
    SqlOAuthStates,
)
from balance_booking.adapters.db.repositories.outbox import SqlOutbox
from balance_booking.adapters.db.repositories.privacy import SqlAuditLog, SqlClientData
from balance_booking.adapters.db.repositories.schedule import SqlSchedule, SqlServices
from balance_booking.adapters.db.repositories.tracking import SqlTracking
from balance_booking.adapters.db.repositories.waitlist import SqlOffers, SqlWaitlist
from balance_booking.application.ports import (
    AdminSessionRepository,
    AdminTokenRepository,
    AdminUserRepository,
    AppointmentRepository,
    AuditLog,
    BusyRepository,
    ClientDataRepository,
    IdempotencyRepository,
    IntegrationRepository,
    LoginAttemptRepository,
    OAuthStateRepository,
    OfferRepository,
    OutboxRepository,
    ScheduleRepository,
    ServiceRepository,
    ThrottleRepository,
    TrackingSink,
    UnitOfWork,
    WaitlistRepository,
)

# Runs inside the transaction just before COMMIT; what it returns runs once the commit succeeded.
BeforeCommit = Callable[[UnitOfWork], Callable[[], None] | None]


# As long as SQLite's own busy timeout (engine.py): a writer never waits longer here.
_WRITE_LOCK_TIMEOUT_S = 30.0


class SqlUnitOfWork:
    """`with uow: ...; uow.commit()`; leaving the block without commit rolls back.

    A transaction whose repositories marked a change also bumps the data version, atomically with
    the change, and tells this process at once (`on_change`) so its caches stop serving old answers.
    """

    # Annotated with the ports' types: protocol attributes are invariant.
    services: ServiceRepository
    schedule: ScheduleRepository
    busy: BusyRepository
    appointments: AppointmentRepository
    admin_tokens: AdminTokenRepository
    integration: IntegrationRepository
    oauth_states: OAuthStateRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    waitlist: WaitlistRepository
    offers: OfferRepository
    tracking: TrackingSink
    admin_users: AdminUserRepository
    admin_sessions: AdminSessionRepository
    login_attempts: LoginAttemptRepository
    throttles: ThrottleRepository
    client_data: ClientDataRepository
    audit: AuditLog

    def __init__(
        self,
        engine: Engine,
        *,
        write: bool = False,
        on_change: Callable[[], None] | None = None,
        before_commit: BeforeCommit | None = None,
        write_lock: threading.RLock | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._on_change = on_change
        self._before_commit = before_commit
        self._write_lock = write_lock
        self._holding_write_lock = False
        self._changes = ChangeTracker()
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None

    def __enter__(self) -> Self:
        if self._write_lock is not None:
            # Past the timeout, SQLite's own busy timeout still decides (as across processes).
            self._holding_write_lock = self._write_lock.acquire(timeout=_WRITE_LOCK_TIMEOUT_S)
        try:
            connection = self._engine.connect()
            if self._write:
                connection = connection.execution_options(sqlite_immediate=True)
            self._connection = connection
            self._transaction = connection.begin()
        except BaseException:
            self._release_write_lock()
            raise
        self._changes = changes = ChangeTracker()
        self.services = SqlServices(connection, changes)
        self.schedule = SqlSchedule(connection, changes)
        self.busy = SqlBusy(connection, changes)
        self.outbox = SqlOutbox(connection)
        self.appointments = SqlAppointments(connection, changes)
        self.idempotency = SqlIdempotencyKeys(connection)
        self.waitlist = SqlWaitlist(connection, changes)
        self.offers = SqlOffers(connection, changes)
        self.tracking = SqlTracking(connection)
        self.admin_tokens = SqlAdminTokens(connection)
        self.integration = SqlIntegration(connection, changes)
        self.oauth_states = SqlOAuthStates(connection)
        self.admin_users = SqlAdminUsers(connection)
        self.admin_sessions = SqlAdminSessions(connection)
        self.login_attempts = SqlLoginAttempts(connection)
        self.throttles = SqlThrottles(connection)
        self.client_data = SqlClientData(connection)
        self.audit = SqlAuditLog(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            try:
                if self._connection is not None:
                    self._connection.close()
            finally:
                self._connection = None
                self._transaction = None
                self._release_write_lock()

    def _release_write_lock(self) -> None:
        if self._holding_write_lock and self._write_lock is not None:
            self._holding_write_lock = False
            self._write_lock.release()

    def commit(self) -> None:
        if self._transaction is None or self._connection is None:
            raise RuntimeError("commit outside the unit of work")
        # The audit trail adds its entry to this very transaction (application/audit.py).
        committed = None if self._before_commit is None else self._before_commit(self)
        changed = self._changes.changed
        if changed:
            self._connection.execute(
                update(t.data_version)
                .where(t.data_version.c.id == 1)
                .values(version=t.data_version.c.version + 1)
            )
        self._transaction.commit()
        self._changes = ChangeTracker()
        if committed is not None:
            committed()
        if changed and self._on_change is not None:
            self._on_change()

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()


class SqlUnitOfWorkFactory:
    """Makes units of work on one engine; `write=True` ones take SQLite's write lock at BEGIN."""

    def __init__(
        self,
        engine: Engine,
        *,
        write: bool = False,
        on_change: Callable[[], None] | None = None,
        before_commit: BeforeCommit | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._on_change = on_change
        self._before_commit = before_commit
        # SQLite has one writer at a time (BEGIN IMMEDIATE). Its busy handler polls with sleeps
        # of up to 100 ms, so writers of this process queue on a lock instead and are handed
        # the database the moment the previous one is done (docs/benchmarks.md, contention);
        # other processes still meet SQLite's busy timeout. Re-entrant: a nested write unit of
        # work in one thread reaches SQLite's timeout as before instead of hanging here.
        self._write_lock = threading.RLock() if write and engine.dialect.name == "sqlite" else None

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self._engine,
            write=self._write,
            on_change=self._on_change,
            before_commit=self._before_commit,
            write_lock=self._write_lock,
        )
