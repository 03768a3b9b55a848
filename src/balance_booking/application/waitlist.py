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
from balance_booking.domain.appointments import Client
from balance_booking.domain.availability import load_zone
from balance_booking.domain.intervals import Interval


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
    ) -> UUID:
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
        )
        with self.writers() as uow:
            if uow.services.get(service_slug) is None:
                raise NotFoundError(f"Unknown service {service_slug!r}.")
            uow.waitlist.add(entry)
            if record is not None:
                uow.client_data.add_consent(replace(record, waitlist_entry_id=entry.entry_id))
            uow.commit()
        return entry.entry_id


@dataclass(frozen=True, kw_only=True, slots=True)
class ListWaitlist:
    """The waitlist for the admin."""

    readers: UnitOfWorkFactory

    def execute(self) -> list[WaitlistEntry]:
        with self.readers() as uow:
            return uow.waitlist.list()
