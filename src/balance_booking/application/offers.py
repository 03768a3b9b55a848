"""Waitlist offers (API.md "Waitlist offers"; docs/waitlist.md): a freed slot goes to the
longest-waiting matching entry as an exclusive hold, told by e-mail; accept books it, decline or
silence hands it to the next entry.

Matching is a worker job rather than a reaction to each kind of freeing (cancel, move away, lapsed
hold, Google busy time removed): every run asks the slot engine, the one source of what is free,
for each waiting entry's window, so every way a slot can come free is covered by one path. An open
offer holds its time like a payment hold (the appointments repository reports it as occupied), so
it leaves the public answer at once; accepting runs the booking's three checks (offered, live in
Google, the database guard) with the offer's own hold left out, so an offer can never lead to a
double booking.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from balance_booking.application.booking import Booked, ManageTokens
from balance_booking.application.errors import (
    CalendarUnavailableError,
    ConflictError,
    NotFoundError,
)
from balance_booking.application.messages import MailPolicy, Messages, waitlist_messages
from balance_booking.application.ports import (
    Clock,
    MailKind,
    UnitOfWork,
    UnitOfWorkFactory,
    WaitlistEntry,
)
from balance_booking.application.slot_guard import (
    BookingRequest,
    SlotGuard,
    SlotSnapshot,
    SlotUnavailableError,
)
from balance_booking.domain.appointments import Appointment, Client
from balance_booking.domain.intervals import Interval
from balance_booking.domain.offers import EntryStatus, Offer, OfferStatus

_log = logging.getLogger(__name__)

DEFAULT_OFFER_HOLD = timedelta(minutes=60)  # WAITLIST_OFFER_MINUTES
BATCH = 50  # entries looked at per run; the rest wait for the next run (every 30 s)
# How far ahead an entry without a window is checked for "free times are back".
REOPENED_LOOKAHEAD = timedelta(days=14)


class OfferClosedError(ConflictError):
    """The offer was accepted, declined, withdrawn or ran out: it can no longer be answered."""


@dataclass(frozen=True, slots=True)
class OfferView:
    """An offer as its recipient sees it."""

    offer: Offer
    entry: WaitlistEntry
    service_title: str
    service_title_en: str | None


def _check_token(uow: UnitOfWork, tokens: ManageTokens, offer_id: UUID, token: str) -> Offer:
    """The offer if `token` is its own; a wrong token looks exactly like an unknown id (404)."""
    if not tokens.matches(uow.offers.token_hash(offer_id), token):
        raise NotFoundError("Unknown offer.")
    offer = uow.offers.get(offer_id)
    if offer is None:
        raise NotFoundError("Unknown offer.")
    return offer


@dataclass(frozen=True, kw_only=True, slots=True)
class GetOffer:
    readers: UnitOfWorkFactory
    tokens: ManageTokens

    def execute(self, offer_id: UUID, *, token: str) -> OfferView:
        with self.readers() as uow:
            offer = _check_token(uow, self.tokens, offer_id, token)
            entry = uow.waitlist.get(offer.entry_id)
            service = uow.services.get(offer.service_slug)
        if entry is None:
            raise NotFoundError("Unknown offer.")
        return OfferView(
            offer=offer,
            entry=entry,
            service_title=service.title if service is not None else offer.service_slug,
            service_title_en=service.title_en if service is not None else None,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class MatchWaitlist:
    """The worker job: run out offers nobody answered, offer freed slots to the longest-waiting
    matching entries, and tell entries without a window once that free times are back."""

    guard: SlotGuard
    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    tokens: ManageTokens
    mail: MailPolicy = field(default_factory=MailPolicy)
    hold: timedelta = DEFAULT_OFFER_HOLD

    def execute(self) -> dict[str, int]:
        now = self.clock.now()
        counts = {"expired": self._run_out(now), "offered": 0, "told": 0}
        try:
            counts["offered"] = self._offer(now)
            counts["told"] = self._tell_reopened(now)
        except CalendarUnavailableError:
            pass  # Google's busy time is too old to know what is free: nothing is offered
        if any(counts.values()):
            _log.info("waitlist_matched", extra=counts)
        return counts

    def _run_out(self, now: datetime) -> int:
        with self.writers() as uow:
            lapsed = uow.offers.run_out(now, limit=BATCH)
            for offer in lapsed:
                offer.expire(now=now)
                uow.offers.save(offer)
                # Someone who let an offer run out is not offered every later slot too.
                uow.waitlist.set_status(offer.entry_id, EntryStatus.EXPIRED)
            uow.commit()
        return len(lapsed)

    def _offer(self, now: datetime) -> int:
        with self.readers() as uow:
            entries = uow.waitlist.waiting(limit=BATCH)
        offered = 0
        snapshots: dict[str, SlotSnapshot | None] = {}
        for entry in entries:
            window = entry.window
            if window is None:
                continue
            if window.end <= now:
                with self.writers() as uow:
                    uow.waitlist.set_status(entry.entry_id, EntryStatus.EXPIRED)
                    uow.commit()
                continue
            if entry.service_slug not in snapshots:
                try:
                    snapshots[entry.service_slug] = self.guard.snapshot(entry.service_slug, now=now)
                except NotFoundError:
                    snapshots[entry.service_slug] = None  # hidden or deleted: nothing to offer
            snapshot = snapshots[entry.service_slug]
            if snapshot is not None and self._offer_one(entry, window, snapshot, now=now):
                offered += 1
        return offered

    def _offer_one(
        self, entry: WaitlistEntry, window: Interval, snapshot: SlotSnapshot, *, now: datetime
    ) -> bool:
        looked = Interval(max(window.start, now), window.end)
        with self.writers() as uow:
            # Under the write lock (SQLite) the free slots cannot change before the offer is in.
            tried = {offer.start for offer in uow.offers.of_entry(entry.entry_id)}
            free = [
                slot
                for slot in self.guard.slots_around(uow, snapshot, looked, now=now, extra_busy=[])
                if slot.start >= looked.start and slot.end <= window.end and slot.start not in tried
            ]
            if not free:
                return False
            offer = Offer.make(
                offer_id=uuid.uuid4(),
                entry_id=entry.entry_id,
                service=snapshot.service,
                start=free[0].start,
                now=now,
                hold=self.hold,
            )
            uow.offers.add(offer, token_hash=self.tokens.hash(self.tokens.token(offer.id)))
            uow.waitlist.set_status(entry.entry_id, EntryStatus.OFFERED)
            uow.outbox.append(
                waitlist_messages(
                    self.mail,
                    MailKind.WAITLIST_OFFER,
                    entry_id=entry.entry_id,
                    offer_id=offer.id,
                ),
                now=now,
            )
            uow.commit()
        _log.info("waitlist_offer_made", extra={"offer_id": str(offer.id)})
        return True

    def _tell_reopened(self, now: datetime) -> int:
        with self.readers() as uow:
            entries = uow.waitlist.to_notify(limit=BATCH)
        told = 0
        for entry in entries:
            try:
                self.guard.snapshot(entry.service_slug, now=now)  # 503 while still stale
            except NotFoundError:
                continue
            with self.writers() as uow:
                uow.waitlist.mark_notified(entry.entry_id, at=now)
                uow.outbox.append(
                    waitlist_messages(
                        self.mail, MailKind.WAITLIST_REOPENED, entry_id=entry.entry_id
                    ),
                    now=now,
                )
                uow.commit()
            told += 1
        return told


@dataclass(frozen=True, kw_only=True, slots=True)
class AcceptOffer:
    """Book the offered time for the entry: the booking's checks, its own hold left out."""

    guard: SlotGuard
    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages
    tokens: ManageTokens  # offer tokens; the new appointment's manage token too
    hold: timedelta  # BALANCE_HOLD_MINUTES, for a service paid in advance

    def execute(self, offer_id: UUID, *, token: str, client: Client | None = None) -> Booked:
        now = self.clock.now()
        with self.readers() as uow:
            offer = _check_token(uow, self.tokens, offer_id, token)
            entry = uow.waitlist.get(offer.entry_id)
        if entry is None:
            raise NotFoundError("Unknown offer.")
        if not offer.is_open_at(now):
            raise OfferClosedError(_CLOSED)
        request = BookingRequest(
            service_slug=offer.service_slug,
            start=offer.start,
            timezone=entry.timezone,
            client=client or Client(name=entry.name, email=entry.email, phone=entry.phone),
            comment=None,
            language=entry.language,
        )
        snapshot = self.guard.snapshot(offer.service_slug, now=now)
        with self.readers() as uow:
            offered = self.guard.offered(
                uow, snapshot, offer.start, now=now, extra_busy=[], exclude=offer.id
            )
        if not offered:
            raise self._withdraw(offer.id, snapshot, request, now=now, live=[])
        live = self.guard.live_busy(snapshot, offer.blocked, now=now)
        if any(busy.overlaps(offer.blocked) for busy in live):
            raise self._withdraw(offer.id, snapshot, request, now=now, live=live)
        return self._book(offer.id, entry, snapshot, request, now=now)

    def _book(
        self,
        offer_id: UUID,
        entry: WaitlistEntry,
        snapshot: SlotSnapshot,
        request: BookingRequest,
        *,
        now: datetime,
    ) -> Booked:
        with self.writers() as uow:
            offer = uow.offers.get_for_update(offer_id)
            if offer is None or not offer.is_open_at(now):
                raise OfferClosedError(_CLOSED)  # a second accept of the same offer
            if not self.guard.offered(
                uow, snapshot, offer.start, now=now, extra_busy=[], exclude=offer.id
            ):
                raise SlotUnavailableError(
                    "This time is no longer available.", alternatives=[], timezone=entry.timezone
                )
            appointment = Appointment.book(
                appointment_id=uuid.uuid4(),
                service=snapshot.service,
                start=offer.start,
                client=request.client,
                client_timezone=request.timezone,
                comment=None,
                now=now,
                hold=self.hold,
                language=request.language,
            )
            token = self.tokens.token(appointment.id)
            self.messages.add_appointment(
                uow, appointment, manage_token_hash=self.tokens.hash(token), now=now
            )
            offer.accept(appointment.id, now=now)
            uow.offers.save(offer)
            uow.waitlist.set_status(entry.entry_id, EntryStatus.BOOKED)
            # The consent given on the waiting list covers the booking it became.
            for consent in uow.client_data.consents(
                appointment_ids=[], waitlist_entry_ids=[entry.entry_id]
            ):
                uow.client_data.add_consent(
                    replace(
                        consent,
                        consent_id=uuid.uuid4(),
                        appointment_id=appointment.id,
                        waitlist_entry_id=None,
                    )
                )
            uow.commit()
        _log.info("waitlist_offer_accepted", extra={"offer_id": str(offer_id)})
        return Booked(appointment=appointment, manage_token=token, replayed=False)

    def _withdraw(
        self,
        offer_id: UUID,
        snapshot: SlotSnapshot,
        request: BookingRequest,
        *,
        now: datetime,
        live: list[Interval],
    ) -> SlotUnavailableError:
        """The time cannot be booked after all (e.g. it became busy in Google): the offer is
        withdrawn, the entry waits again, and the client is shown the nearest free times."""
        with self.writers() as uow:
            offer = uow.offers.get_for_update(offer_id)
            if offer is not None and offer.status is OfferStatus.OPEN:
                offer.withdraw(now=now)
                uow.offers.save(offer)
                uow.waitlist.set_status(offer.entry_id, EntryStatus.WAITING)
            conflict = self.guard.conflict(
                uow, snapshot, request, now=now, extra_busy=live, exclude=offer_id
            )
            uow.commit()
        return conflict


_CLOSED = "This offer can no longer be accepted; you are welcome to choose another time."


@dataclass(frozen=True, kw_only=True, slots=True)
class DeclineOffer:
    """The entry does not want this time: the next entry gets it, this one keeps waiting."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    tokens: ManageTokens

    def execute(self, offer_id: UUID, *, token: str) -> Offer:
        now = self.clock.now()
        with self.readers() as uow:
            _check_token(uow, self.tokens, offer_id, token)
        with self.writers() as uow:
            offer = uow.offers.get_for_update(offer_id)
            if offer is None:
                raise NotFoundError("Unknown offer.")
            if offer.status is OfferStatus.DECLINED:
                return offer  # declining twice is harmless
            if not offer.is_open_at(now):
                raise OfferClosedError(_CLOSED)
            offer.decline(now=now)
            uow.offers.save(offer)
            uow.waitlist.set_status(offer.entry_id, EntryStatus.WAITING)
            uow.commit()
        _log.info("waitlist_offer_declined", extra={"offer_id": str(offer_id)})
        return offer


@dataclass(frozen=True, slots=True)
class WaitlistRow:
    """An entry for the admin, with its open offer if it has one."""

    entry: WaitlistEntry
    offer: Offer | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ListWaitlistWithOffers:
    readers: UnitOfWorkFactory

    def execute(self) -> list[WaitlistRow]:
        with self.readers() as uow:
            entries = uow.waitlist.list()
            offers = uow.offers.open_of_entries()
        return [WaitlistRow(entry=e, offer=offers.get(e.entry_id)) for e in entries]


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoveWaitlistEntry:
    """The practitioner takes someone off the list (an open offer's hold goes with it)."""

    writers: UnitOfWorkFactory

    def execute(self, entry_id: UUID) -> None:
        with self.writers() as uow:
            if not uow.waitlist.delete(entry_id):
                raise NotFoundError("Unknown waitlist entry.")
            uow.commit()
