"""Joining the waiting list twice: the same person, service and (overlapping) window is answered
with the entry they have and nothing is stored; anything else is a new entry."""

from __future__ import annotations

from dataclasses import replace

import pytest

from balance_booking.domain.intervals import Interval
from balance_booking.domain.offers import EntryStatus
from tests.unit.application.wiring import CLIENT, Joined, World, moscow

MORNINGS = Interval(moscow(1, 10), moscow(3, 13))


def join(
    world: World, *, preferred: Interval | None = MORNINGS, email: str | None = None
) -> Joined:
    client = CLIENT if email is None else replace(CLIENT, email=email)
    return world.join_waitlist.execute(
        service_slug="session",
        client=client,
        timezone="Europe/Moscow",
        preferred=preferred,
        comment=None,
    )


def test_the_same_person_and_window_is_answered_with_the_entry_they_have(ready: World) -> None:
    first = join(ready)
    again = join(ready, email="ANNA@Example.com")
    assert again == replace(first, already_waiting=True)
    assert len(ready.list_waitlist.execute()) == 1


@pytest.mark.parametrize(
    ("second", "twice"),
    [
        (Interval(moscow(3, 12), moscow(4, 18)), True),  # overlaps
        (Interval(moscow(3, 13), moscow(4, 18)), False),  # starts where the first ends
        (None, False),  # "when times are back" is another wish than a window
    ],
)
def test_an_overlapping_window_is_the_same_wish(
    ready: World, second: Interval | None, twice: bool
) -> None:
    join(ready)
    assert join(ready, preferred=second).already_waiting is twice
    assert len(ready.list_waitlist.execute()) == (1 if twice else 2)


def test_two_joins_without_a_window_are_one_entry(ready: World) -> None:
    join(ready, preferred=None)
    assert join(ready, preferred=None).already_waiting is True


@pytest.mark.parametrize("status", [EntryStatus.BOOKED, EntryStatus.EXPIRED])
def test_an_entry_that_is_done_does_not_count(ready: World, status: EntryStatus) -> None:
    first = join(ready)
    with ready.db() as uow:
        uow.waitlist.set_status(first.entry_id, status)
        uow.commit()
    assert join(ready).already_waiting is False


def test_an_offered_entry_still_counts(ready: World) -> None:
    first = join(ready)
    with ready.db() as uow:
        uow.waitlist.set_status(first.entry_id, EntryStatus.OFFERED)
        uow.commit()
    assert join(ready).already_waiting is True


def test_someone_else_is_another_entry(ready: World) -> None:
    join(ready)
    assert join(ready, email="boris@example.com").already_waiting is False
