"""Demo data for the embedded default: two services and weekday hours, seeded once."""

from __future__ import annotations

from datetime import timedelta

from balance_booking.application.admin import CreateService, ListServices, ReplaceSchedule
from balance_booking.bootstrap import Container
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.services import Service

DEMO_SERVICES = (
    Service(
        slug="consultation",
        title="Консультация психолога",
        title_en="Psychologist consultation",
        duration=timedelta(minutes=50),
        buffer_after=timedelta(minutes=10),
        slot_step=timedelta(minutes=60),
        min_notice=timedelta(hours=12),
        max_days_ahead=60,
    ),
    Service(
        slug="first-meeting",
        title="Первая встреча",
        title_en="First meeting",
        duration=timedelta(minutes=30),
        buffer_after=timedelta(minutes=10),
        slot_step=timedelta(minutes=60),
        min_notice=timedelta(hours=24),
        max_days_ahead=30,
        daily_limit=2,
    ),
)


def seed_demo(container: Container) -> bool:
    """Create the demo services and hours if the database has no services yet."""
    if ListServices(uow_factory=container.readers).execute():
        return False
    create = CreateService(uow_factory=container.writers)
    for service in DEMO_SERVICES:
        create.execute(service)
    weekday = (LocalWindow.parse("10:00", "14:00"), LocalWindow.parse("15:00", "19:00"))
    ReplaceSchedule(uow_factory=container.writers).execute(
        Availability(
            timezone=container.settings.default_timezone,
            weekly=dict.fromkeys(range(5), weekday),
            overrides={},
        )
    )
    return True
