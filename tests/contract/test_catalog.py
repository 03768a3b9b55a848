"""Contract: services, the schedule and the busy mirror; transactions and the data version."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from balance_booking.domain.availability import Availability, LocalWindow, Vacation
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Price, ServiceFormat
from tests.contract.conftest import Backend
from tests.contract.data import T0, appointment, at, service

TEN_TO_SIX = (LocalWindow.parse("10:00", "18:00"),)


def test_services_round_trip_in_creation_order(backend: Backend) -> None:
    full = service(
        "zeta",
        title_en="Session",
        buffer_before=timedelta(minutes=5),
        buffer_after=timedelta(minutes=10),
        slot_step=timedelta(minutes=60),
        min_notice=timedelta(hours=12),
        max_days_ahead=30,
        daily_limit=3,
        requires_payment=True,
    )
    with backend.uow() as uow:
        uow.services.add(full)
        uow.services.add(service("alpha", active=False))
        uow.commit()
    with backend.uow() as uow:
        assert uow.services.get("zeta") == full
        assert [s.slug for s in uow.services.list(active_only=False)] == ["zeta", "alpha"]
        assert [s.slug for s in uow.services.list(active_only=True)] == ["zeta"]
        assert uow.services.get("missing") is None


def test_service_update_replaces_every_field(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.services.add(service())
        uow.commit()
    changed = service(duration=timedelta(minutes=90), daily_limit=2, active=False)
    with backend.uow() as uow:
        uow.services.update(changed)
        uow.commit()
    with backend.uow() as uow:
        assert uow.services.get("session") == changed


def test_what_clients_read_about_a_service_round_trips_exactly(backend: Backend) -> None:
    described = service(
        "first-meeting",
        description="Знакомство на 30 минут.\nНи к чему не обязывает.",
        description_en="A 30-minute introduction.",
        price=Price(Decimal("3500.50"), "RUB"),
        format=ServiceFormat.ONLINE,
        location="Ссылка придёт на почту за день до встречи.",
    )
    with backend.uow() as uow:
        uow.services.add(described)
        uow.services.add(service("plain"))
        uow.commit()
    with backend.uow() as uow:
        stored = uow.services.get("first-meeting")
        plain = uow.services.get("plain")
    assert stored == described
    assert stored is not None
    assert stored.price is not None
    assert str(stored.price.amount) == "3500.50", "exact, never through a float"
    assert plain is not None
    assert (plain.price, plain.format, plain.description, plain.location) == (
        None,
        ServiceFormat.EITHER,
        None,
        None,
    )
    # Clearing: a price and the texts can be taken away again.
    cleared = service("first-meeting", format=ServiceFormat.IN_PERSON)
    with backend.uow() as uow:
        uow.services.update(cleared)
        uow.commit()
    with backend.uow() as uow:
        assert uow.services.get("first-meeting") == cleared


def test_a_service_with_appointments_is_not_deleted(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.services.add(service("booked"))
        uow.services.add(service("free"))
        uow.appointments.add(appointment(slug="booked"), manage_token_hash="h", now=T0)
        uow.commit()
    with backend.uow() as uow:
        assert uow.services.delete("booked") is False
        assert uow.services.delete("free") is True
        uow.commit()
    with backend.uow() as uow:
        assert [s.slug for s in uow.services.list(active_only=False)] == ["booked"]


def test_no_schedule_until_one_is_saved(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.schedule.get() is None


def test_schedule_round_trip_with_a_day_off_and_a_short_day(backend: Backend) -> None:
    schedule = Availability(
        timezone="Asia/Kolkata",
        weekly={0: TEN_TO_SIX, 2: (LocalWindow.parse("09:00", "12:00"),)},
        overrides={
            date(2026, 12, 31): (),
            date(2026, 12, 30): (
                LocalWindow.parse("10:00", "12:00"),
                LocalWindow.parse("13:00", "14:00"),
            ),
        },
    )
    with backend.uow() as uow:
        uow.schedule.save(schedule)
        uow.commit()
    with backend.uow() as uow:
        stored = uow.schedule.get()
    assert stored == schedule


def test_saving_a_schedule_replaces_the_whole_of_it(backend: Backend) -> None:
    first = Availability(timezone="Europe/Moscow", weekly={0: TEN_TO_SIX, 1: TEN_TO_SIX})
    second = Availability(timezone="UTC", weekly={4: TEN_TO_SIX})
    with backend.uow() as uow:
        uow.schedule.save(first)
        uow.commit()
    with backend.uow() as uow:
        uow.schedule.save(second)
        uow.commit()
    with backend.uow() as uow:
        assert uow.schedule.get() == second


def test_vacations_round_trip_and_are_replaced_with_the_schedule(backend: Backend) -> None:
    winter = Vacation(date(2027, 1, 2), date(2027, 1, 10))
    one_day = Vacation(date(2027, 3, 8), date(2027, 3, 8))
    with_vacations = Availability(
        timezone="Europe/Moscow",
        weekly={0: TEN_TO_SIX},
        overrides={date(2027, 1, 5): TEN_TO_SIX},  # inside the vacation: the vacation wins
        vacations=(one_day, winter),
    )
    with backend.uow() as uow:
        uow.schedule.save(with_vacations)
        uow.commit()
    with backend.uow() as uow:
        stored = uow.schedule.get()
    assert stored == with_vacations
    assert stored is not None
    assert stored.vacations == (winter, one_day)
    assert stored.windows_for(date(2027, 1, 4)) == ()  # a Monday inside the vacation
    without = Availability(timezone="Europe/Moscow", weekly={0: TEN_TO_SIX})
    with backend.uow() as uow:
        uow.schedule.save(without)
        uow.commit()
    with backend.uow() as uow:
        stored = uow.schedule.get()
    assert stored is not None
    assert stored.vacations == ()
    assert stored.windows_for(date(2027, 1, 4)) == TEN_TO_SIX


def test_a_weekday_without_windows_reads_back_as_absent(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.schedule.save(Availability(timezone="UTC", weekly={0: TEN_TO_SIX, 1: ()}))
        uow.commit()
    with backend.uow() as uow:
        stored = uow.schedule.get()
    assert stored is not None
    assert dict(stored.weekly) == {0: TEN_TO_SIX}


def test_busy_overlapping_is_half_open_and_sorted(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.busy.replace_all(
            [Interval(at(5), at(6)), Interval(at(1), at(2))], source="google"
        )
        uow.commit()
    with backend.uow() as uow:
        assert uow.busy.overlapping(Interval(at(0), at(10))) == [
            Interval(at(1), at(2)),
            Interval(at(5), at(6)),
        ]
        assert uow.busy.overlapping(Interval(at(2), at(5))) == [], "touching is not overlapping"
        assert uow.busy.overlapping(Interval(at(1.5), at(1.75))) == [Interval(at(1), at(2))]
        assert uow.integration.busy_count() == 2


def test_replace_all_says_whether_the_mirror_changed(backend: Backend) -> None:
    intervals = [Interval(at(1), at(2)), Interval(at(3), at(4))]
    with backend.uow() as uow:
        assert uow.busy.replace_all(intervals, source="google") is True
        uow.commit()
    with backend.uow() as uow:
        assert uow.busy.replace_all(list(reversed(intervals)), source="google") is False
        assert uow.busy.replace_all(intervals[:1], source="google") is True
        uow.commit()
    with backend.uow() as uow:
        assert uow.busy.overlapping(Interval(at(0), at(10))) == intervals[:1]
        assert uow.busy.replace_all([], source="google") is True
        uow.commit()
    with backend.uow() as uow:
        assert uow.integration.busy_count() == 0


def test_clear_empties_the_mirror(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.busy.replace_all([Interval(at(1), at(2))], source="google")
        uow.commit()
    with backend.uow() as uow:
        uow.busy.clear()
        uow.commit()
    with backend.uow() as uow:
        assert uow.busy.overlapping(Interval(at(0), at(10))) == []


def test_leaving_without_commit_rolls_back(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.services.add(service("kept"))
        uow.commit()
    with backend.uow() as uow:
        uow.services.add(service("dropped"))
        uow.busy.replace_all([Interval(at(1), at(2))], source="google")
    with backend.uow() as uow:
        assert [s.slug for s in uow.services.list(active_only=False)] == ["kept"]
        assert uow.integration.busy_count() == 0


def test_explicit_rollback_discards_the_work_so_far(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.services.add(service("dropped"))
        uow.rollback()
    with backend.uow() as uow:
        assert uow.services.get("dropped") is None


def test_a_unit_of_work_sees_its_own_writes_before_commit(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.services.add(service())
        assert uow.services.get("session") is not None
        uow.commit()


def test_availability_changes_bump_the_data_version_and_others_do_not(backend: Backend) -> None:
    start = backend.version()
    with backend.uow() as uow:
        uow.waitlist.list()
        uow.tracking.track("booking_conflict", {"service_slug": "s"}, at=T0)
        uow.commit()
    assert backend.version() == start, "tracking does not change availability"
    with backend.uow() as uow:
        uow.services.add(service())
    assert backend.version() == start, "a rolled-back change bumps nothing"
    with backend.uow() as uow:
        uow.services.add(service())
        uow.commit()
    assert backend.version() == start + 1
    with backend.uow() as uow:
        uow.busy.replace_all([], source="google")  # no change to the (empty) mirror
        uow.commit()
    assert backend.version() == start + 1
    with backend.uow() as uow:
        uow.schedule.save(Availability(timezone="UTC"))
        uow.busy.replace_all([Interval(at(1), at(2))], source="google")
        uow.commit()
    assert backend.version() == start + 2, "one bump per transaction"
