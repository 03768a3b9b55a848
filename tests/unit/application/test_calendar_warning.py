"""The warning on every admin page: time is offered without Google busy time in a practice that
used Google (docs/pages.md, "The Google warning")."""

from __future__ import annotations

from dataclasses import replace

from balance_booking.application.integration import CalendarWarning, GetCalendarWarning
from balance_booking.domain.availability import Availability
from balance_booking.domain.calendar_account import IntegrationStatus
from tests.unit.application.wiring import SESSION, World


def warning(world: World) -> CalendarWarning | None:
    return GetCalendarWarning(
        uow_factory=world.db, enabled_by_default=world.enabled_by_default
    ).execute()


def kind(world: World) -> str | None:
    found = warning(world)
    return None if found is None else found.kind


def test_a_practice_that_never_connected_google_is_not_nagged() -> None:
    world = World().given()
    assert kind(world) is None
    world.set_enabled.execute(enabled=False)
    assert kind(world) is None


def test_connected_and_synced_is_quiet() -> None:
    assert kind(World().given().connect()) is None


def test_disconnecting_warns_until_connected_again() -> None:
    world = World().given().connect()
    world.disconnect.execute()
    assert kind(world) == "disconnected"
    world.connect()
    assert kind(world) is None


def test_switching_busy_time_off_warns_while_it_is_off() -> None:
    world = World().given().connect()
    world.set_enabled.execute(enabled=False)
    assert kind(world) == "switched_off"
    world.disconnect.execute()
    assert kind(world) == "switched_off", "off wins: the connection would not matter anyway"
    world.set_enabled.execute(enabled=True)
    assert kind(world) == "disconnected"


def test_withdrawn_access_and_a_broken_connection_warn() -> None:
    world = World().given().connect()
    world.save_record(replace(world.record(), status=IntegrationStatus.NEEDS_REAUTH))
    assert kind(world) == "needs_reauth"
    world.save_record(replace(world.record(), status=IntegrationStatus.ERROR))
    assert kind(world) == "error"


def test_nothing_offered_publicly_means_nothing_to_warn_about() -> None:
    no_hours = World().given(schedule=Availability(timezone="Europe/Moscow"))
    no_hours.connect(synced=False)
    no_hours.disconnect.execute()
    assert kind(no_hours) is None

    hidden = World().given(replace(SESSION, active=False))
    hidden.connect(synced=False)
    hidden.disconnect.execute()
    assert kind(hidden) is None
