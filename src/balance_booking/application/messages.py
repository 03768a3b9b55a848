"""The one domain event -> outbox messages registry: what each fact asks to be delivered.

Read `Messages.for_event` top to bottom; mypy checks that every kind of DomainEvent has a line
there. Use cases store an appointment through `Messages.add_appointment` /
`Messages.save_appointment`, which queue the messages of its new events in the same transaction
(DESIGN.md section 6: side effects after commit).

An e-mail row carries only ids, the kind and (for reminders) the lead and the start it was planned
for: the words are written when it is sent, from the appointment as it is then, so no client data
is copied into the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import assert_never
from uuid import UUID

from balance_booking.application.ports import (
    CalendarState,
    JsonScalar,
    MailKind,
    NewMessage,
    OutboxKind,
    OutboxMessage,
    Payload,
    PractitionerNotice,
    UnitOfWork,
)
from balance_booking.domain.appointments import Appointment, AppointmentStatus
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
    AppointmentHeld,
    AppointmentMoved,
    DomainEvent,
)
from balance_booking.domain.intervals import Interval


@dataclass(frozen=True, slots=True, kw_only=True)
class MailPolicy:
    """Which e-mails the practice sends (settings SMTP_URL, PRACTITIONER_EMAIL, REMINDERS)."""

    enabled: bool = False  # SMTP_URL is set
    practitioner: bool = False  # PRACTITIONER_EMAIL is set
    reminders: tuple[timedelta, ...] = field(default=())  # lead times before the start


@dataclass(frozen=True, slots=True, kw_only=True)
class Messages:
    """Turns an appointment's domain events into outbox rows, in the caller's transaction."""

    mail: MailPolicy = field(default_factory=MailPolicy)

    def add_appointment(
        self, uow: UnitOfWork, appointment: Appointment, *, manage_token_hash: str, now: datetime
    ) -> None:
        """Insert a new appointment and queue the messages of its events, in one transaction."""
        events = appointment.pull_events()
        uow.appointments.add(appointment, manage_token_hash=manage_token_hash, now=now)
        self._queue(uow, appointment, events, now=now)

    def save_appointment(self, uow: UnitOfWork, appointment: Appointment, *, now: datetime) -> None:
        """Store an appointment's new state and queue the messages of its events."""
        events = appointment.pull_events()
        uow.appointments.save(appointment, now=now)
        self._queue(uow, appointment, events, now=now)

    def resend_confirmation(
        self, uow: UnitOfWork, appointment: Appointment, *, now: datetime
    ) -> bool:
        """Queue the client's confirmation (or, for a payment hold, the hold's message) once
        more, with the manage link: the client asked for their own slot again (409
        already_booked). A new reference per re-send (`...again-UNIX_TIME`), so it is a new
        message with its own Message-ID; the caller throttles. False when no e-mail goes out."""
        kind = (
            MailKind.PENDING_PAYMENT
            if appointment.status is AppointmentStatus.PENDING_PAYMENT
            else MailKind.CONFIRMED
        )
        messages = self._client(kind, appointment, again=now)
        if messages:
            uow.outbox.append(messages, now=now)
        return bool(messages)

    def _queue(
        self,
        uow: UnitOfWork,
        appointment: Appointment,
        events: Iterable[DomainEvent],
        *,
        now: datetime,
    ) -> None:
        messages: list[NewMessage] = []
        for event in events:
            self._free_own_event_time(uow, appointment, event)
            if isinstance(event, AppointmentCancelled | AppointmentExpired | AppointmentMoved):
                # Reminders of an appointment that will not happen (then) are dropped, never
                # sent; a move plans them afresh for the new time.
                uow.outbox.discard(
                    appointment_id=appointment.id,
                    kind=OutboxKind.EMAIL,
                    topic=MailKind.REMINDER,
                )
            messages.extend(self.for_event(event, appointment, now=now))
        if messages:
            uow.outbox.append(messages, now=now)

    @staticmethod
    def _free_own_event_time(uow: UnitOfWork, appointment: Appointment, event: DomainEvent) -> None:
        """A confirmed appointment that moves or is cancelled frees its old time at once: its own
        Google event there is about to be patched or deleted, so the busy mirror forgets it until
        the next sync (which the worker runs right after that write; docs/self-service.md)."""
        match event:
            case AppointmentMoved(was_confirmed=True, previous_start=previous):
                old = Interval(previous, previous + (appointment.end - appointment.start))
            case AppointmentCancelled(was_confirmed=True):
                old = Interval(appointment.start, appointment.end)
            case _:
                return
        if uow.appointments.calendar_event(appointment.id).state == CalendarState.CREATED:
            uow.busy.forget(old)

    def for_event(
        self, event: DomainEvent, appointment: Appointment, *, now: datetime
    ) -> list[NewMessage]:
        """The outbox messages one domain event of `appointment` calls for."""
        match event:
            case AppointmentHeld():
                return [
                    *self._client(MailKind.PENDING_PAYMENT, appointment),
                    *self._practitioner(PractitionerNotice.HELD, appointment),
                ]
            case AppointmentConfirmed():
                client = (
                    [
                        *self._client(MailKind.CONFIRMED, appointment),
                        *self._reminders(appointment, now=now),
                    ]
                    if event.notify_client
                    else []
                )
                return [
                    calendar_message(event),  # the event appears in the owner's calendar
                    *client,
                    *self._practitioner(
                        PractitionerNotice.CONFIRMED
                        if event.was_held
                        else PractitionerNotice.BOOKED,
                        appointment,
                    ),
                ]
            case AppointmentCancelled():
                # A payment hold never reached the calendar: only a confirmed one has an event.
                calendar = [calendar_message(event)] if event.was_confirmed else []
                return [
                    *calendar,
                    *self._client(MailKind.CANCELLED, appointment),
                    *self._practitioner(PractitionerNotice.CANCELLED, appointment),
                ]
            case AppointmentExpired():
                # Only confirmed appointments are exported; the client hears the hold lapsed.
                return [
                    *self._client(MailKind.CANCELLED, appointment, lapsed=True),
                    *self._practitioner(PractitionerNotice.LAPSED, appointment),
                ]
            case AppointmentMoved():
                # The event moves in place (same id); each move is news once, numbered by its
                # sequence; reminders are planned again for the new time (dropped above).
                calendar = [calendar_message(event)] if event.was_confirmed else []
                reminders = self._reminders(appointment, now=now) if event.was_confirmed else []
                return [
                    *calendar,
                    *self._client(
                        MailKind.RESCHEDULED,
                        appointment,
                        sequence=event.sequence,
                        previous_start=event.previous_start,
                    ),
                    *reminders,
                    *self._practitioner(
                        PractitionerNotice.MOVED,
                        appointment,
                        sequence=event.sequence,
                        previous_start=event.previous_start,
                    ),
                ]
            case _:
                assert_never(event)

    def _client(
        self,
        kind: MailKind,
        appointment: Appointment,
        *,
        lapsed: bool = False,
        sequence: int | None = None,
        previous_start: datetime | None = None,
        again: datetime | None = None,
    ) -> list[NewMessage]:
        if not self.mail.enabled or appointment.client.email is None:
            return []
        payload: dict[str, JsonScalar] = {"appointment_id": str(appointment.id)}
        if lapsed:
            payload["lapsed"] = True
        if sequence is not None:
            payload["sequence"] = sequence
        if previous_start is not None:
            payload["previous_start"] = previous_start.isoformat()
        suffix = None if sequence is None else str(sequence)
        if again is not None:
            suffix = f"again-{int(again.timestamp())}"
        return [_mail(kind, appointment.id, payload, suffix=suffix)]

    def _practitioner(
        self,
        notice: PractitionerNotice,
        appointment: Appointment,
        *,
        sequence: int | None = None,
        previous_start: datetime | None = None,
    ) -> list[NewMessage]:
        if not (self.mail.enabled and self.mail.practitioner):
            return []
        payload: dict[str, JsonScalar] = {
            "appointment_id": str(appointment.id),
            "notice": notice.value,
        }
        if sequence is not None:
            payload["sequence"] = sequence
        if previous_start is not None:
            payload["previous_start"] = previous_start.isoformat()
        return [
            _mail(
                MailKind.PRACTITIONER,
                appointment.id,
                payload,
                suffix=notice.value if sequence is None else f"{notice.value}.{sequence}",
            )
        ]

    def _reminders(self, appointment: Appointment, *, now: datetime) -> list[NewMessage]:
        """One reminder per lead time, unless that moment had already passed at booking."""
        if not self.mail.enabled or appointment.client.email is None:
            return []
        planned = []
        for lead in self.mail.reminders:
            at = appointment.start - lead
            if at <= now:
                continue
            payload: dict[str, JsonScalar] = {
                "appointment_id": str(appointment.id),
                "lead_minutes": lead_minutes(lead),
                "start": appointment.start.isoformat(),
            }
            planned.append(
                _mail(
                    MailKind.REMINDER,
                    appointment.id,
                    payload,
                    suffix=lead_label(lead),
                    # Re-planned after a move: a new start makes a new key.
                    dedup_extra=str(int(appointment.start.timestamp())),
                    not_before=at,
                )
            )
        return planned


def waitlist_messages(
    mail: MailPolicy, kind: MailKind, *, entry_id: UUID, offer_id: UUID | None = None
) -> list[NewMessage]:
    """The e-mail to a waitlist entry: a slot offered (once per offer), or free times back (once
    per entry). Like every e-mail row it carries ids only."""
    if not mail.enabled:
        return []
    subject = entry_id if offer_id is None else offer_id
    reference = f"{kind.value}.{subject}"
    payload: dict[str, JsonScalar] = {"entry_id": str(entry_id), "reference": reference}
    if offer_id is not None:
        payload["offer_id"] = str(offer_id)
    return [
        NewMessage(
            kind=OutboxKind.EMAIL,
            topic=kind.value,
            payload=payload,
            waitlist_entry_id=entry_id,
            dedup_key=f"email:{reference}",
        )
    ]


def lead_minutes(lead: timedelta) -> int:
    return int(lead.total_seconds() // 60)


def lead_label(lead: timedelta) -> str:
    """`24h`, `2h`, `90m`: how a lead time reads in a Message-ID and in settings."""
    minutes = lead_minutes(lead)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def mail_reference(kind: MailKind, appointment_id: UUID, suffix: str | None) -> str:
    """The left part of a message's Message-ID: `KIND.APPOINTMENT_ID[.SUFFIX]` (API.md)."""
    return f"{kind.value}.{appointment_id}" + ("" if suffix is None else f".{suffix}")


def _mail(
    kind: MailKind,
    appointment_id: UUID,
    payload: Payload,
    *,
    suffix: str | None,
    dedup_extra: str | None = None,
    not_before: datetime | None = None,
) -> NewMessage:
    reference = mail_reference(kind, appointment_id, suffix)
    return NewMessage(
        kind=OutboxKind.EMAIL,
        topic=kind.value,
        payload={**payload, "reference": reference},
        appointment_id=appointment_id,
        # At most one message per (appointment, kind, lead), ever.
        dedup_key=f"email:{reference}" + ("" if dedup_extra is None else f"@{dedup_extra}"),
        not_before=not_before,
    )


def calendar_message(
    event: AppointmentConfirmed | AppointmentCancelled | AppointmentMoved,
) -> NewMessage:
    """A google_calendar message carries the domain event itself (its id and time, no client)."""
    payload: dict[str, JsonScalar] = {
        "appointment_id": str(event.appointment_id),
        "occurred_at": event.occurred_at.isoformat(),
    }
    if isinstance(event, AppointmentCancelled):
        payload["was_confirmed"] = event.was_confirmed
    if isinstance(event, AppointmentMoved):
        payload["sequence"] = event.sequence
        payload["was_confirmed"] = event.was_confirmed
        payload["previous_start"] = event.previous_start.isoformat()
    return NewMessage(
        kind=OutboxKind.GOOGLE_CALENDAR,
        topic=type(event).__name__,
        payload=payload,
        appointment_id=event.appointment_id,
    )


def event_of(message: OutboxMessage) -> DomainEvent | None:
    """The domain event a google_calendar message was written from; None if it cannot be read.

    Rows written by release 1 may also name AppointmentExpired (nothing to do in Google).
    """
    if message.payload is None:
        return None
    return _event(message.topic, message.payload)


def _event(topic: str, data: Payload) -> DomainEvent | None:
    try:
        appointment_id = UUID(str(data["appointment_id"]))
        occurred_at = datetime.fromisoformat(str(data["occurred_at"]))
        if topic == AppointmentCancelled.__name__:
            was_confirmed = data["was_confirmed"]
            if not isinstance(was_confirmed, bool):
                return None
            return AppointmentCancelled(appointment_id, occurred_at, was_confirmed=was_confirmed)
        if topic == AppointmentConfirmed.__name__:
            return AppointmentConfirmed(appointment_id, occurred_at)
        if topic == AppointmentExpired.__name__:
            return AppointmentExpired(appointment_id, occurred_at)
        if topic == AppointmentMoved.__name__:
            sequence, was_confirmed = data["sequence"], data["was_confirmed"]
            if not isinstance(sequence, int) or not isinstance(was_confirmed, bool):
                return None
            return AppointmentMoved(
                appointment_id,
                occurred_at,
                sequence=sequence,
                was_confirmed=was_confirmed,
                previous_start=datetime.fromisoformat(str(data["previous_start"])),
            )
    except (ValueError, KeyError, TypeError):
        return None
    return None
