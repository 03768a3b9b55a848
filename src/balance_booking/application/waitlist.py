"""The waitlist: clients asking to hear when a slot frees up, and the admin's list of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from uuid import UUID

from balance_booking.application.errors import (
    InvalidRequestError,
    NotFoundError,
)
from balance_booking.application.ports import (
    Clock,
    UnitOfWorkFactory,
    WaitlistEntry,
)
from balance_booking.application.privacy import ConsentPolicy
from balance_booking.domain.appointments import LANGUAGES, Client
from balance_booking.domain.availability import load_zone
from balance_booking.domain.intervals import Interval


@dataclass(frozen=True, slots=True)
class Joined:
    """The entry a join answers with; `already_waiting`: it existed before (nothing stored)."""

    entry_id: UUID
    already_waiting: bool = False


def _same_wish(entry: WaitlistEntry, preferred: Interval | None) -> bool:
    """Whether a new request asks for what `entry` already waits for: both without a window
    ("tell me when times are back"), or windows that overlap (or are the same)."""
    if entry.window is None or preferred is None:
        return entry.window is None and preferred is None
    return entry.window.overlaps(preferred)


@dataclass(frozen=True, kw_only=True, slots=True)
class JoinWaitlist:
    """A client asks to hear when a slot frees up (offered when Google cannot be reached)."""

    writers: UnitOfWorkFactory
    clock: Clock
    consent: ConsentPolicy = field(default_factory=ConsentPolicy)  # PRIVACY_POLICY_URL

    def execute(
        self,
        *,
        service_slug: str,
        client: Client,
        timezone: str,
        preferred: Interval | None,
        comment: str | None,
        consent: bool = False,
        language: str = "ru",
    ) -> Joined:
        """Store the entry; or, when the same person (e-mail compared case-insensitively) is
        already waiting or offered a time for this service and a window that overlaps this one,
        answer with that entry and store nothing (docs/waitlist.md, "Joining twice")."""
        record = self.consent.record(consent=consent, now=self.clock.now())
        load_zone(timezone)
        if client.email is None:
            raise InvalidRequestError("An e-mail address is required.", field="email")
        entry = WaitlistEntry(
            entry_id=uuid.uuid4(),
            service_slug=service_slug,
            name=client.name,
            email=client.email,
            phone=client.phone,
            timezone=timezone,
            preferred_from=None if preferred is None else preferred.start,
            preferred_to=None if preferred is None else preferred.end,
            comment=comment,
            created_at=self.clock.now(),
            language=language if language in LANGUAGES else LANGUAGES[0],
        )
        with self.writers() as uow:
            if uow.services.get(service_slug) is None:
                raise NotFoundError(f"Unknown service {service_slug!r}.")
            wanted = client.email.strip().casefold()
            for existing in uow.waitlist.open_for(service_slug, client.email.strip()):
                if existing.email.strip().casefold() == wanted and _same_wish(existing, preferred):
                    return Joined(existing.entry_id, already_waiting=True)
            uow.waitlist.add(entry)
            if record is not None:
                uow.client_data.add_consent(replace(record, waitlist_entry_id=entry.entry_id))
            uow.commit()
        return Joined(entry.entry_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class ListWaitlist:
    """The waitlist for the admin."""

    readers: UnitOfWorkFactory

    def execute(self) -> list[WaitlistEntry]:
        with self.readers() as uow:
            return uow.waitlist.list()
