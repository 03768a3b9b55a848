"""IcsFiles: the .ics of an appointment (RFC 5545), read back with the icalendar parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from balance_booking.adapters.ics import IcsFiles
from balance_booking.application.ports import CalendarInvite, InviteStatus

UID = "0b6f5b8e-3d1c-4e63-9f3a-6a1f0c2d9e41@balance-booking"
BERLIN = ZoneInfo("Europe/Berlin")
# Sunday 29 March 2026: Berlin moves from +01:00 to +02:00 at 02:00 local time.
BEFORE_CHANGE = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)  # 00:30 UTC
AFTER_CHANGE = datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)  # 01:30 UTC
STAMP = datetime(2026, 3, 20, 9, 15, tzinfo=UTC)


def invite(**changes: Any) -> CalendarInvite:
    fields: dict[str, Any] = {
        "uid": UID,
        "sequence": 0,
        "start": BEFORE_CHANGE,
        "end": AFTER_CHANGE,
        "summary": "Консультация",
        "stamp": STAMP,
    }
    return CalendarInvite(**(fields | changes))


def event_of(content: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(content)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert isinstance(event, icalendar.Event)
    return event


def test_times_are_written_in_utc_across_a_dst_change() -> None:
    content = IcsFiles().invite(invite())

    event = event_of(content)
    assert event["DTSTART"].to_ical() == b"20260329T003000Z"
    assert event["DTEND"].to_ical() == b"20260329T013000Z"  # one hour later, not two
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=1)
    assert event["DTSTAMP"].to_ical() == b"20260320T091500Z"
    assert b"TZID" not in content
    assert b"VTIMEZONE" not in content


def test_the_uid_is_the_appointments_and_a_move_only_raises_the_sequence() -> None:
    files = IcsFiles()
    first = event_of(files.invite(invite()))
    moved = event_of(
        files.invite(
            invite(
                sequence=3,
                start=BEFORE_CHANGE + timedelta(days=1),
                end=AFTER_CHANGE + timedelta(days=1),
            )
        )
    )

    assert str(first["UID"]) == str(moved["UID"]) == UID
    assert (int(first["SEQUENCE"]), int(moved["SEQUENCE"])) == (0, 3)
    assert files.invite(invite()) == files.invite(invite()), "the same facts, the same bytes"


def test_summary_description_location_and_manage_link() -> None:
    event = event_of(
        IcsFiles().invite(
            invite(
                description="Первая встреча: знакомство; 50 минут",
                location="Москва, ул. Тверская, 1",
                url="https://balance.example.org/booking/manage/42?token=t0ken",
            )
        )
    )

    assert str(event["SUMMARY"]) == "Консультация"
    assert str(event["DESCRIPTION"]) == "Первая встреча: знакомство; 50 минут"
    assert str(event["LOCATION"]) == "Москва, ул. Тверская, 1"
    assert str(event["URL"]) == "https://balance.example.org/booking/manage/42?token=t0ken"


def test_optional_fields_are_left_out_when_absent() -> None:
    event = event_of(IcsFiles().invite(invite()))

    for name in ("DESCRIPTION", "LOCATION", "URL"):
        assert name not in event


@pytest.mark.parametrize(
    ("status", "transparency", "alarms"),
    [
        (InviteStatus.CONFIRMED, "OPAQUE", 1),
        (InviteStatus.TENTATIVE, "OPAQUE", 1),
        (InviteStatus.CANCELLED, "TRANSPARENT", 0),
    ],
)
def test_status_decides_busy_time_and_the_reminder(
    status: InviteStatus, transparency: str, alarms: int
) -> None:
    event = event_of(IcsFiles().invite(invite(status=status)))

    assert str(event["STATUS"]) == status.value
    assert str(event["TRANSP"]) == transparency
    found = event.walk("VALARM")
    assert len(found) == alarms
    if alarms:
        assert found[0].decoded("TRIGGER") == -timedelta(hours=1)


def test_lines_are_crlf_and_folded_at_75_octets() -> None:
    content = IcsFiles().invite(invite(description="Очень длинное описание встречи. " * 20))

    lines = content.split(b"\r\n")
    assert lines[-1] == b"", "every line ends with CRLF"
    assert all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    assert event_of(content)["DESCRIPTION"] == "Очень длинное описание встречи. " * 20
