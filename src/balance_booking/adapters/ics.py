"""iCalendar files (RFC 5545) with the `icalendar` library: the manage page's download and the
e-mail attachments, one builder for both."""

from __future__ import annotations

from datetime import UTC, timedelta

import icalendar

from balance_booking.application.ports import CalendarInvite, InviteStatus

PRODID = "-//Emotional Balance//balance-booking//RU"


class IcsFiles:
    """A VCALENDAR with one VEVENT; times in UTC, so every calendar app places it right."""

    def invite(self, invite: CalendarInvite) -> bytes:
        calendar = icalendar.Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        event = icalendar.Event()
        event.add("uid", invite.uid)
        event.add("sequence", invite.sequence)
        event.add("dtstamp", invite.stamp.astimezone(UTC))
        event.add("dtstart", invite.start.astimezone(UTC))
        event.add("dtend", invite.end.astimezone(UTC))
        event.add("summary", invite.summary)
        if invite.description:
            event.add("description", invite.description)
        if invite.location:
            event.add("location", invite.location)
        if invite.url:
            event.add("url", invite.url)
        event.add("status", invite.status.value)
        event.add("transp", "TRANSPARENT" if invite.status is InviteStatus.CANCELLED else "OPAQUE")
        if invite.status is not InviteStatus.CANCELLED:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", invite.summary)
            alarm.add("trigger", -timedelta(hours=1))
            event.add_component(alarm)
        calendar.add_component(event)
        content: bytes = calendar.to_ical()
        return content
