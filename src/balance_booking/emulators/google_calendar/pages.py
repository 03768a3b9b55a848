"""HTML: the consent screen, Google-style error pages and a week view of a calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from balance_booking.emulators.google_calendar import scopes as sc
from balance_booking.emulators.google_calendar.events import EventsService, ListQuery
from balance_booking.emulators.google_calendar.models import PendingConsent
from balance_booking.emulators.google_calendar.timefmt import day_start, parse_event_time


@dataclass(frozen=True, slots=True)
class WeekRequest:
    email: str
    calendar_id: str
    week: date | None  # any day of the week to show; None = the week of `now`
    highlight: str | None
    now: datetime  # the emulator clock, so "this week" follows advanced time


class Pages:
    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("balance_booking.emulators.google_calendar", "templates"),
            autoescape=select_autoescape(["html"]),
            auto_reload=False,
        )

    def render(self, name: str, **context: Any) -> str:
        return self._env.get_template(name).render(**context)

    def consent(
        self,
        *,
        pending: PendingConsent,
        client_name: str,
        users: list[str],
        email: str,
        action: str,
    ) -> str:
        scopes = [
            {
                "value": scope,
                "label": sc.SCOPE_LABELS.get(scope, scope),
                "basic": scope in sc.BASIC_SCOPES,
            }
            for scope in pending.scopes
        ]
        return self.render(
            "consent.html",
            client_name=client_name,
            request_id=pending.request_id,
            scopes=scopes,
            users=users,
            email=email,
            redirect_uri=pending.redirect_uri,
            action=action,
        )

    def error(self, *, status: int, error: str, description: str) -> str:
        return self.render("error.html", status=status, error=error, description=description)

    def week(self, *, events: EventsService, request: WeekRequest, base: str) -> str:
        calendar = events.calendar(email=request.email, calendar_id=request.calendar_id)
        zone = ZoneInfo(calendar.timezone)
        today = request.now.astimezone(zone).date()
        shown = request.week or today
        monday = shown - timedelta(days=shown.weekday())
        start = day_start(monday, zone)
        end = day_start(monday + timedelta(days=7), zone)
        listing = events.list_events(
            email=request.email,
            calendar_id=calendar.id,
            query=ListQuery(
                time_min=start,
                time_max=end,
                single_events=True,
                order_by="startTime",
                max_results=2500,
            ),
        )
        days: list[dict[str, Any]] = [
            {"date": monday + timedelta(days=i), "events": []} for i in range(7)
        ]
        for item in listing["items"]:
            self._place(days, item, zone, monday, request.highlight)
        for day in days:
            day["label"] = day["date"].strftime("%a %d %b")

        def link(week: date, calendar_id: str = calendar.id) -> str:
            query = urlencode(
                {"email": request.email, "calendar_id": calendar_id, "week": week.isoformat()}
            )
            return f"{base}/_emulator/calendar?{query}"

        others = [c.id for c in events.calendars_of(request.email)]
        return self.render(
            "week.html",
            calendar_id=calendar.id,
            calendar_summary=calendar.summary,
            time_zone=calendar.timezone,
            week_start=monday.isoformat(),
            week_end=(monday + timedelta(days=6)).isoformat(),
            days=days,
            count=len(listing["items"]),
            prev_link=link(monday - timedelta(days=7)),
            next_link=link(monday + timedelta(days=7)),
            this_link=link(today),
            calendars=others,
            other_links={other: link(monday, other) for other in others},
        )

    @staticmethod
    def _place(
        days: list[dict[str, Any]],
        item: dict[str, Any],
        zone: ZoneInfo,
        monday: date,
        highlight: str | None,
    ) -> None:
        start = parse_event_time(item["start"], calendar_zone=zone, field="start")
        end = parse_event_time(item["end"], calendar_zone=zone, field="end")
        if start.all_day and start.day is not None and end.day is not None:
            covered = [start.day + timedelta(days=i) for i in range((end.day - start.day).days)]
            when = "all day"
        else:
            local_start = start.instant.astimezone(zone)
            local_end = end.instant.astimezone(zone)
            covered = [local_start.date()]
            when = f"{local_start:%H:%M}-{local_end:%H:%M}"
        entry = {
            "id": item["id"],
            "summary": item.get("summary") or "(No title)",
            "when": when,
            "free": item.get("transparency") == "transparent",
            "cancelled": item.get("status") == "cancelled",
            "recurring": "recurringEventId" in item,
            "highlight": highlight is not None
            and highlight in {item["id"], item.get("recurringEventId")},
        }
        for day in covered:
            index = (day - monday).days
            if 0 <= index < 7:
                days[index]["events"].append(entry)
