"""Privacy and data rights (API.md "Privacy and data rights"; docs/privacy.md): consent, one
client's data as a JSON export, erasure on request, and the daily retention job.

Personal data has one home: the client fields of appointment and waitlist rows. Outbox rows carry
only ids (application/messages.py), Google events none at all (application/export.py), logs
never. So erasing is: blank those fields, drop the rows that merely point at them (stored
Idempotency-Key answers, mail-server error texts), and let the storage forget the old bytes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from balance_booking.application.audit import describe_target, ids_target
from balance_booking.application.errors import ConsentRequiredError, InvalidRequestError
from balance_booking.application.messages import Messages
from balance_booking.application.ports import (
    CalendarEventState,
    Clock,
    ConsentRecord,
    MailKind,
    OutboxKind,
    UnitOfWork,
    UnitOfWorkFactory,
    WaitlistEntry,
)
from balance_booking.domain.appointments import Appointment

_log = logging.getLogger(__name__)

SIGN_INS_KEPT = timedelta(days=30)
# An erasure that waits for its cancellation e-mail is done anyway after this long (the e-mail
# was parked, or the mail server has been down for longer than e-mail retries last).
ERASURE_WAITS_AT_MOST = timedelta(days=2)
RETENTION_EVERY = timedelta(days=1) - timedelta(minutes=5)  # an hourly check's slack
BATCH = 500  # rows per statement, so a first run over years of data stays a series of small ones

CONSENT_REQUIRED = (
    "Please accept the privacy policy to book: tick the consent box (the booking needs it)."
)


@dataclass(frozen=True, slots=True)
class ConsentPolicy:
    """PRIVACY_POLICY_URL: when set, a booking or waitlist entry needs the client's consent."""

    policy_url: str | None = None

    def record(self, *, consent: bool, now: datetime) -> ConsentRecord | None:
        """The record to store with the booking, or None without a policy; 422 without consent."""
        if self.policy_url is None:
            return None
        if not consent:
            raise ConsentRequiredError(CONSENT_REQUIRED)
        return ConsentRecord(consent_id=uuid.uuid4(), policy_url=self.policy_url, given_at=now)


@dataclass(frozen=True, slots=True)
class ClientData:
    """Everything stored about one e-mail address."""

    appointments: list[tuple[Appointment, CalendarEventState]]
    waitlist: list[WaitlistEntry]
    consents: list[ConsentRecord]


def _email(value: str) -> str:
    email = value.strip()
    local, at, domain = email.partition("@")
    if not (local and at and domain) or len(email) > 320:
        raise InvalidRequestError("An e-mail address is required.", field="email")
    return email


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportClientData:
    """ "What do you store about me": every appointment, waitlist entry and consent of an address.

    It runs in a write transaction although it changes nothing, so that its audit entry is
    written like every other admin action's (application/audit.py)."""

    writers: UnitOfWorkFactory

    def execute(self, email: str) -> ClientData:
        address = _email(email)
        with self.writers() as uow:
            data = _collect(uow, address)
            describe_target(ids_target("appointment", [a.id for a, _ in data.appointments]))
            uow.commit()
        return data


def _collect(uow: UnitOfWork, email: str) -> ClientData:
    ids = uow.client_data.appointment_ids(email)
    appointments = [
        (appointment, uow.appointments.calendar_event(appointment.id))
        for appointment in (uow.appointments.get(i) for i in ids)
        if appointment is not None
    ]
    waitlist = uow.client_data.waitlist(email)
    consents = uow.client_data.consents(
        appointment_ids=ids, waitlist_entry_ids=[entry.entry_id for entry in waitlist]
    )
    return ClientData(appointments=appointments, waitlist=waitlist, consents=consents)


@dataclass(frozen=True, kw_only=True, slots=True)
class EraseClientData:
    """ "Delete me": cancel the address's future appointments (the client is told by e-mail, the
    Google events are deleted through the outbox), then erase every personal field it has.

    The cancellation e-mail still needs the address, so an appointment cancelled here is only
    marked; the e-mail handler erases it once that e-mail is out (or parked), and the retention job
    after two days at the latest. The practitioner's own notice of these cancellations is not
    sent: they asked for the erasure and it would carry the client's name."""

    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages
    forget_erased: Callable[[], None] | None = None  # the storage drops the old bytes

    def execute(self, email: str) -> dict[str, int]:
        address = _email(email)
        now = self.clock.now()
        with self.writers() as uow:
            ids = uow.client_data.appointment_ids(address)
            cancelled = 0
            waiting: list[UUID] = []  # for their cancellation e-mail
            for appointment_id in ids:
                appointment = uow.appointments.get_for_update(appointment_id)
                if appointment is None or not (appointment.is_active and appointment.start > now):
                    continue
                appointment.cancel(now=now)
                self.messages.save_appointment(uow, appointment, now=now)
                uow.outbox.discard(
                    appointment_id=appointment_id,
                    kind=OutboxKind.EMAIL,
                    topic=MailKind.PRACTITIONER,
                )
                cancelled += 1
                if self.messages.mail.enabled and appointment.client.email is not None:
                    waiting.append(appointment_id)
            uow.client_data.request_erasure(waiting, now=now)
            erased_now = uow.client_data.erase_appointments(
                [i for i in ids if i not in set(waiting)], now=now
            )
            waitlist = [entry.entry_id for entry in uow.client_data.waitlist(address)]
            deleted = uow.client_data.delete_waitlist(waitlist)
            describe_target(ids_target("appointment", ids))
            uow.commit()
        if self.forget_erased is not None:
            self.forget_erased()
        counts = {
            "appointments": erased_now + len(waiting),
            "cancelled": cancelled,
            "waitlist_entries": deleted,
        }
        _log.info("client_data_erased", extra=counts)
        return counts


def finish_erasure(uow: UnitOfWork, appointment_id: UUID, *, now: datetime) -> bool:
    """Erase an appointment whose erasure waited for an e-mail, now that it is out; in `uow`."""
    if not uow.client_data.erasure_requested(appointment_id):
        return False
    uow.client_data.erase_appointments([appointment_id], now=now)
    return True


@dataclass(frozen=True, kw_only=True, slots=True)
class ApplyRetention:
    """The daily retention job: client fields RETENTION_DAYS after an appointment ends (the row
    stays, anonymous, for counts and the calendar), waitlist entries and tracking events after
    RETENTION_DAYS, sign-in records after 30 days, and erasures that waited too long for an e-mail.
    Running it twice erases nothing twice; it logs counts only."""

    writers: UnitOfWorkFactory
    clock: Clock
    retention: timedelta
    forget_erased: Callable[[], None] | None = None  # the storage drops the old bytes

    def execute(self, *, force: bool = False) -> dict[str, int] | None:
        """Run unless it already ran in the last day (anywhere); None when skipped."""
        now = self.clock.now()
        with self.writers() as uow:
            last = uow.client_data.last_retention_run()
            if not force and last is not None and now - last < RETENTION_EVERY:
                return None
            uow.client_data.record_retention_run(now)
            uow.commit()
        cutoff = now - self.retention
        counts = {
            "appointments": self._batches(
                lambda uow: uow.client_data.ended_unerased(ended_before=cutoff, limit=BATCH),
                lambda uow, ids: uow.client_data.erase_appointments(ids, now=now),
            ),
            "requested_erasures": self._batches(
                lambda uow: uow.client_data.erasures_due(
                    requested_before=now - ERASURE_WAITS_AT_MOST, limit=BATCH
                ),
                lambda uow, ids: uow.client_data.erase_appointments(ids, now=now),
            ),
            "waitlist_entries": self._batches(
                lambda uow: uow.client_data.waitlist_created_before(cutoff, limit=BATCH),
                lambda uow, ids: uow.client_data.delete_waitlist(ids),
            ),
        }
        with self.writers() as uow:
            counts["tracking_events"] = uow.client_data.prune_tracking(before=cutoff)
            counts["sign_ins"] = uow.login_attempts.prune(before=now - SIGN_INS_KEPT)
            uow.commit()
        if any(counts.values()) and self.forget_erased is not None:
            self.forget_erased()
        _log.info("retention_applied", extra=counts)
        return counts

    def _batches(
        self,
        find: Callable[[UnitOfWork], list[UUID]],
        erase: Callable[[UnitOfWork, list[UUID]], int],
    ) -> int:
        total = 0
        while True:
            with self.writers() as uow:
                ids = find(uow)
                if not ids:
                    return total
                total += erase(uow, ids)
                uow.commit()
            if len(ids) < BATCH:
                return total
