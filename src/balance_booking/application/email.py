"""The email kind of the outbox: one row -> one message, written from the appointment as it is now.

Which rows exist is decided in application/messages.py when the change is stored; here a row is
turned into the facts of one message (Mail) and handed to the Mailer. A row whose news is no
longer true is done without a message: a `confirmed` for an appointment cancelled since, a
reminder for an appointment that moved or was cancelled (docs/email.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial
from uuid import UUID

from balance_booking.application.availability import load_availability
from balance_booking.application.booking import ManageTokens
from balance_booking.application.errors import (
    ApplicationError,
    MailRejectedError,
    MailUnavailableError,
)
from balance_booking.application.outbox import Failure, UndeliverableMessageError
from balance_booking.application.ports import (
    CalendarInvite,
    Clock,
    InviteStatus,
    Mail,
    Mailer,
    MailKind,
    OutboxKind,
    OutboxMessage,
    Payload,
    PractitionerNotice,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.application.privacy import finish_erasure
from balance_booking.application.service_info import invite_description, invite_location
from balance_booking.domain.appointments import LANGUAGES, Appointment, AppointmentStatus
from balance_booking.domain.services import Service

_log = logging.getLogger(__name__)

MANAGE_PATH = "/booking/manage/{id}?token={token}"
OFFER_PATH = "/booking/offers/{id}?token={token}"
BOOKING_PATH = "/booking/slot/?service={slug}"
ADMIN_PATH = "/admin/schedule/"
_WAITLIST_KINDS = frozenset({MailKind.WAITLIST_OFFER.value, MailKind.WAITLIST_REOPENED.value})
GIVE_UP_AFTER = timedelta(hours=24)  # API.md: after 24 h of failures a message is parked


def mail_domain(mail_from: str) -> str:
    """The domain of MAIL_FROM (`Name <user@domain>` or `user@domain`), for Message-IDs."""
    _, address = parseaddr(mail_from)
    domain = address.rpartition("@")[2].strip().lower()
    if not domain:
        raise ValueError("MAIL_FROM must contain an address with a domain")
    return domain


def invite_uid(appointment_id: UUID) -> str:
    """One UID per appointment, the same in every .ics we write (page and e-mails)."""
    return f"{appointment_id}@balance-booking"


@dataclass(frozen=True, slots=True, kw_only=True)
class MailLinks:
    """Absolute links in messages, always from PUBLIC_BASE_URL (never a request's Host)."""

    public_base_url: str
    manage_tokens: ManageTokens

    def manage(self, appointment_id: UUID) -> str:
        token = self.manage_tokens.token(appointment_id)
        return self._base + MANAGE_PATH.format(id=appointment_id, token=token)

    def offer(self, offer_id: UUID) -> str:
        token = self.manage_tokens.token(offer_id)
        return self._base + OFFER_PATH.format(id=offer_id, token=token)

    def book_again(self, service_slug: str) -> str:
        return self._base + BOOKING_PATH.format(slug=service_slug)

    def admin(self) -> str:
        return self._base + ADMIN_PATH

    @property
    def _base(self) -> str:
        return self.public_base_url.rstrip("/")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Row:
    """An email row's payload, read."""

    kind: MailKind
    appointment_id: UUID
    reference: str
    lapsed: bool
    notice: PractitionerNotice | None
    lead: timedelta | None
    planned_start: datetime | None
    sequence: int | None  # rescheduled: the move this message tells of
    previous_start: datetime | None  # rescheduled: where it was

    @classmethod
    def read(cls, message: OutboxMessage) -> _Row:
        data: Payload = message.payload or {}
        try:
            lead_minutes = data.get("lead_minutes")
            start = data.get("start")
            notice = data.get("notice")
            sequence = data.get("sequence")
            previous = data.get("previous_start")
            return cls(
                kind=MailKind(message.topic),
                appointment_id=UUID(str(data["appointment_id"])),
                reference=str(data["reference"]),
                lapsed=data.get("lapsed") is True,
                notice=None if notice is None else PractitionerNotice(str(notice)),
                lead=None if lead_minutes is None else timedelta(minutes=int(str(lead_minutes))),
                planned_start=None if start is None else datetime.fromisoformat(str(start)),
                sequence=None if sequence is None else int(str(sequence)),
                previous_start=None if previous is None else datetime.fromisoformat(str(previous)),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise UndeliverableMessageError(
                f"unreadable email row of type {message.topic}"
            ) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailMessages:
    """The email kind of the outbox: SMTP trouble is retried with backoff for up to 24 hours,
    a refusal for the recipient parks that message only; e-mail never waits for Google."""

    kind = OutboxKind.EMAIL

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory  # to finish an erasure that waited for its e-mail
    mailer: Mailer
    links: MailLinks
    domain: str  # of MAIL_FROM, for Message-IDs
    practitioner_email: str | None
    default_timezone: str
    clock: Clock
    give_up_after: timedelta | None = GIVE_UP_AFTER
    forget_erased: Callable[[], None] | None = None  # the storage drops erased bytes

    def can_run(self, uow: UnitOfWork) -> bool:  # noqa: ARG002 - e-mail never waits for Google
        return True

    def handle(self, message: OutboxMessage) -> bool:
        if message.topic in _WAITLIST_KINDS:
            return self._handle_waitlist(message)
        row = _Row.read(message)
        with self.readers() as uow:
            mail = self._compose(uow, row)
            erase_after = uow.client_data.erasure_requested(row.appointment_id)
        if mail is None:
            _log.info(
                "email_skipped",
                extra={"message_id": message.message_id, "kind": row.kind.value},
            )
        else:
            self.mailer.send(mail)
            _log.info(
                "email_sent", extra={"message_id": message.message_id, "kind": row.kind.value}
            )
        if erase_after:
            # The cancellation of a data request is out: the address is needed no more.
            self._finish_erasure(row.appointment_id)
        return False  # nothing to do after a batch

    def _handle_waitlist(self, message: OutboxMessage) -> bool:
        data: Payload = message.payload or {}
        try:
            kind = MailKind(message.topic)
            entry_id = UUID(str(data["entry_id"]))
            reference = str(data["reference"])
            offer_id = None if data.get("offer_id") is None else UUID(str(data["offer_id"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise UndeliverableMessageError(
                f"unreadable email row of type {message.topic}"
            ) from exc
        with self.readers() as uow:
            mail = self._compose_waitlist(uow, kind, entry_id, offer_id, reference)
        if mail is None:
            _log.info("email_skipped", extra={"message_id": message.message_id, "kind": kind.value})
            return False
        self.mailer.send(mail)
        _log.info("email_sent", extra={"message_id": message.message_id, "kind": kind.value})
        return False

    def _compose_waitlist(
        self,
        uow: UnitOfWork,
        kind: MailKind,
        entry_id: UUID,
        offer_id: UUID | None,
        reference: str,
    ) -> Mail | None:
        """An offer (while it is still open) or "free times are back", to the entry's address."""
        entry = uow.waitlist.get(entry_id)
        if entry is None:
            return None  # removed, or erased on request
        service = uow.services.get(entry.service_slug)
        title = service.title if service is not None else entry.service_slug
        if entry.language == "en" and service is not None and service.title_en:
            title = service.title_en
        now = self.clock.now()
        mail = partial(
            Mail,
            kind=kind,
            message_id=f"<{reference}@{self.domain}>",
            to=entry.email,
            language=entry.language,
            service_title=title,
            timezone=entry.timezone,
            recipient_name=entry.name,
        )
        if kind is MailKind.WAITLIST_REOPENED:
            # No time of its own: the letter names the service and links to the booking page.
            return mail(
                start=now, end=now, book_again_url=self.links.book_again(entry.service_slug)
            )
        offer = None if offer_id is None else uow.offers.get(offer_id)
        if offer is None or not offer.is_open_at(now):
            return None  # answered, withdrawn or run out before it could be sent
        return mail(
            start=offer.start,
            end=offer.end,
            accept_url=self.links.offer(offer.id),
            offer_expires_at=offer.expires_at,
        )

    def _finish_erasure(self, appointment_id: UUID) -> None:
        with self.writers() as uow:
            finished = finish_erasure(uow, appointment_id, now=self.clock.now())
            uow.commit()
        if finished and self.forget_erased is not None:
            self.forget_erased()

    def classify(self, error: ApplicationError) -> Failure:
        if isinstance(error, MailUnavailableError):
            return Failure.TRANSIENT
        if isinstance(error, MailRejectedError):
            return Failure.PERMANENT
        return Failure.PERMANENT

    def on_park(self, uow: UnitOfWork, message: OutboxMessage, *, now: datetime) -> None:
        # The parked row itself is what the admin sees; an erasure waiting for this e-mail
        # waits no longer (the row keeps only ids, so a retry later has no address to use).
        if message.appointment_id is not None:
            finish_erasure(uow, message.appointment_id, now=now)

    def after_batch(self) -> None:
        return None

    def _compose(self, uow: UnitOfWork, row: _Row) -> Mail | None:
        appointment = uow.appointments.get(row.appointment_id)
        if appointment is None or not self._still_true(row, appointment):
            return None
        service = uow.services.get(appointment.service_slug)
        title = service.title if service is not None else appointment.service_slug
        message_id = f"<{row.reference}@{self.domain}>"
        if row.kind is MailKind.PRACTITIONER:
            if self.practitioner_email is None or row.notice is None:
                return None
            owner_zone = load_availability(uow, default_timezone=self.default_timezone).timezone
            return Mail(
                kind=row.kind,
                message_id=message_id,
                to=self.practitioner_email,
                language=LANGUAGES[0],  # the practice's own language
                service_title=title,
                start=appointment.start,
                end=appointment.end,
                timezone=owner_zone,
                notice=row.notice,
                previous_start=row.previous_start,
                client_name=appointment.client.name,
                client_email=appointment.client.email,
                client_phone=appointment.client.phone,
                admin_url=self.links.admin(),
            )
        if appointment.client.email is None:
            return None  # booked by the admin without an address
        active = appointment.is_active
        language = appointment.language
        if language == "en" and service is not None and service.title_en:
            title = service.title_en
        return Mail(
            kind=row.kind,
            message_id=message_id,
            to=appointment.client.email,
            language=language,
            service_title=title,
            service_description=None if service is None else service.description_in(language),
            service_price=None if service is None else service.price,
            service_format=None if service is None else service.format,
            service_location=None if service is None else service.location,
            start=appointment.start,
            end=appointment.end,
            timezone=appointment.client_timezone,
            recipient_name=appointment.client.name,
            manage_url=self.links.manage(appointment.id) if active else None,
            book_again_url=None if active else self.links.book_again(appointment.service_slug),
            hold_expires_at=appointment.hold_expires_at,
            lead=row.lead,
            lapsed=row.lapsed,
            previous_start=row.previous_start,
            invite=self._invite(appointment, title, service) if row.kind in _WITH_INVITE else None,
        )

    def _still_true(self, row: _Row, appointment: Appointment) -> bool:
        """Whether the news a row carries still holds for the appointment as it is now."""
        match row.kind:
            case MailKind.CONFIRMED:
                return appointment.status is AppointmentStatus.CONFIRMED
            case MailKind.PENDING_PAYMENT:
                return appointment.status is AppointmentStatus.PENDING_PAYMENT
            case MailKind.RESCHEDULED:
                # A later move's message supersedes this one; a cancelled one says so itself.
                return appointment.is_active and row.sequence == appointment.sequence
            case MailKind.REMINDER:
                return (
                    appointment.status is AppointmentStatus.CONFIRMED
                    and appointment.start == row.planned_start
                    and appointment.start > self.clock.now()
                )
            case _:
                return True  # cancellations, moves and notices are news whenever they arrive

    def _invite(
        self, appointment: Appointment, title: str, service: Service | None
    ) -> CalendarInvite:
        # The same service facts as the manage page's download (application/service_info.py).
        language = appointment.language
        return CalendarInvite(
            uid=invite_uid(appointment.id),
            sequence=appointment.sequence,
            start=appointment.start,
            end=appointment.end,
            summary=title,
            description=invite_description(service, language, note=None),
            location=invite_location(service, language),
            url=self.links.manage(appointment.id),
            status=InviteStatus.TENTATIVE
            if appointment.status is AppointmentStatus.PENDING_PAYMENT
            else InviteStatus.CONFIRMED,
            stamp=self.clock.now(),
        )


# The kinds that carry an .ics file, so the time lands in the client's own calendar.
_WITH_INVITE = frozenset({MailKind.CONFIRMED, MailKind.PENDING_PAYMENT, MailKind.RESCHEDULED})
