"""The admin audit log: one mechanism, written in the transaction of the change.

The edge that knows an admin action is starting (the admin routes, the CLI) opens a draft with
`auditing(action, target=..., ip=...)`; authentication names the actor (`identify`). The write
units of work call `AuditTrail` just before they commit, and the first commit inside the draft
stores the entry in that same transaction. So an action that changes something leaves exactly one
entry, one that fails before committing leaves none, and no route or use case has to remember a
call: the drafts live in a context variable that FastAPI copies into the worker thread of the
request (the draft itself is shared, so `recorded` set in one thread is seen by the next commit).

Entries never hold client personal data: targets are ids and slugs (docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from balance_booking.application.ports import AuditEntry, Clock, UnitOfWork, UnitOfWorkFactory


@dataclass(slots=True, kw_only=True)
class AuditDraft:
    """An admin action in progress: what, on what, from where; who once authenticated."""

    action: str
    target: str | None = None
    ip: str | None = None
    actor: str | None = None
    recorded: bool = False


_current: ContextVar[AuditDraft | None] = ContextVar("audit_draft", default=None)


@contextmanager
def auditing(
    action: str, *, target: str | None = None, ip: str | None = None, actor: str | None = None
) -> Iterator[AuditDraft]:
    """Everything committed inside this block is the admin action `action`."""
    draft = AuditDraft(action=action, target=target, ip=ip, actor=actor)
    token = _current.set(draft)
    try:
        yield draft
    finally:
        _current.reset(token)


def identify(actor: str) -> None:
    """Name who acts (an admin's e-mail or `token:NAME`) once they have proved it."""
    draft = _current.get()
    if draft is not None:
        draft.actor = actor


def describe_target(target: str) -> None:
    """Name what the action changed when the request did not (e.g. a created id)."""
    draft = _current.get()
    if draft is not None:
        draft.target = target


def ids_target(kind: str, ids: Sequence[UUID], *, shown: int = 10) -> str:
    """`appointment:ID,ID,...` (at most `shown` ids, then the count): ids only, never names."""
    if not ids:
        return f"{kind}:none"
    listed = ",".join(str(i) for i in ids[:shown])
    more = f",+{len(ids) - shown}" if len(ids) > shown else ""
    return f"{kind}:{listed}{more}"


@dataclass(frozen=True, slots=True)
class AuditTrail:
    """Called by a write unit of work just before it commits (bootstrap wires it)."""

    clock: Clock

    def __call__(self, uow: UnitOfWork) -> Callable[[], None] | None:
        """Add the pending entry to this transaction; return what to run once it committed."""
        draft = _current.get()
        if draft is None or draft.actor is None or draft.recorded:
            return None
        uow.audit.add(
            AuditEntry(
                at=self.clock.now(),
                actor=draft.actor,
                action=draft.action,
                target=draft.target,
                ip=draft.ip,
            )
        )

        def committed() -> None:
            draft.recorded = True

        return committed


@dataclass(frozen=True, slots=True)
class ListAuditLog:
    """The audit log for the admin, newest first, a page at a time."""

    readers: UnitOfWorkFactory

    def execute(
        self, start: datetime, end: datetime, *, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        with self.readers() as uow:
            return uow.audit.between(start, end, before_id=before_id, limit=limit)
