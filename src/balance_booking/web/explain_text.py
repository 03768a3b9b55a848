"""The words of an availability explanation, in Russian and English, times in the owner's zone.

One sentence per reason code (API.md "Explainable availability"), written for the practitioner
("Занято в Google Календаре: 11:00–13:00"). The admin API returns them as `message` and the week
view shows them as they come, so the page and the API never say different things.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from balance_booking.domain.explain import Explanation, Reason, ReasonCode
from balance_booking.domain.intervals import Interval

_TEXTS: dict[str, dict[ReasonCode, str]] = {
    "ru": {
        ReasonCode.SERVICE_INACTIVE: "Этот вид встречи скрыт от клиентов.",
        ReasonCode.CALENDAR_STALE: (
            "Данные Google Календаря устарели (последняя синхронизация: {synced}), поэтому "
            "клиентам сейчас не показывается свободное время."
        ),
        ReasonCode.PAST: "Это время уже прошло.",
        ReasonCode.MIN_NOTICE: (
            "Меньше минимального срока записи ({notice} до начала): на это время можно было "
            "записаться до {deadline}."
        ),
        ReasonCode.BEYOND_HORIZON: (
            "Слишком далеко вперёд: запись открыта на {days} дн., до {horizon}."
        ),
        ReasonCode.DAY_OFF: "Выходной: {date} — особый день без рабочих часов.",
        ReasonCode.OUTSIDE_HOURS: "Вне рабочих часов.",
        ReasonCode.DAILY_LIMIT: "Дневной лимит исчерпан: не больше {limit} таких встреч в день.",
        ReasonCode.BUSY: "Занято в Google Календаре: {span}",
        ReasonCode.BOOKED: "Другая запись: {span}",
        ReasonCode.HELD: "Время удерживается для другого клиента (ждёт оплаты или ответа из листа ожидания): {span}",
        ReasonCode.BUFFER: (
            "Слишком близко к другой записи ({span}): не остаётся перерыва между встречами."
        ),
    },
    "en": {
        ReasonCode.SERVICE_INACTIVE: "This kind of meeting is hidden from clients.",
        ReasonCode.CALENDAR_STALE: (
            "The Google Calendar data is out of date (last synced: {synced}), so clients are "
            "shown no free time right now."
        ),
        ReasonCode.PAST: "This time has already passed.",
        ReasonCode.MIN_NOTICE: (
            "Inside the minimum notice ({notice} before the start): this time could be booked "
            "until {deadline}."
        ),
        ReasonCode.BEYOND_HORIZON: "Too far ahead: bookings open {days} days ahead, until {horizon}.",
        ReasonCode.DAY_OFF: "Day off: {date} is a special day without working hours.",
        ReasonCode.OUTSIDE_HOURS: "Outside working hours.",
        ReasonCode.DAILY_LIMIT: "The daily limit is reached: at most {limit} such meetings a day.",
        ReasonCode.BUSY: "Busy in Google Calendar: {span}",
        ReasonCode.BOOKED: "Another booking: {span}",
        ReasonCode.HELD: "Held for another client (awaiting payment or a waiting-list answer): {span}",
        ReasonCode.BUFFER: (
            "Too close to another booking ({span}): no break would be left between the meetings."
        ),
    },
}
# outside_hours and off_grid name the working window the start lies in.
_DOES_NOT_FIT = {
    "ru": "Встреча ({duration}) не помещается в рабочие часы {span}.",
    "en": "The meeting ({duration}) does not fit in the working hours {span}.",
}
_OFF_GRID = {
    "ru": "Не по сетке записи: в рабочие часы {span} встречи начинаются каждые {step}, с {anchor}.",
    "en": "Not on the booking grid: in the working hours {span} meetings start every {step}, "
    "from {anchor}.",
}
# day_off on a vacation day names the whole vacation (its interval runs midnight to midnight).
_VACATION = {
    "ru": "Выходной: {date} — отпуск с {first} по {last}.",
    "en": "Day off: {date} is part of the vacation from {first} to {last}.",
}
_NEVER = {"ru": "ещё не было", "en": "never"}
_UNITS = {"ru": ("ч", "мин"), "en": ("h", "min")}


def _length(value: timedelta, lang: str) -> str:
    """ "1 ч 30 мин" / "1 h 30 min"."""
    hours_unit, minutes_unit = _UNITS[lang]
    total = int(value.total_seconds() // 60)
    hours, minutes = divmod(total, 60)
    parts = ([f"{hours} {hours_unit}"] if hours else []) + (
        [f"{minutes} {minutes_unit}"] if minutes or not hours else []
    )
    return " ".join(parts)


class _Formatter:
    """Instants as the practitioner reads them: in the owner's zone, in the page's language."""

    def __init__(self, *, lang: str, zone: ZoneInfo, start: datetime) -> None:
        self.lang = lang
        self.zone = zone
        self.day = start.astimezone(zone).date()

    def _format(self, instant: datetime, pattern: str) -> str:
        return format_datetime(instant, pattern, tzinfo=self.zone, locale=self.lang)

    def time(self, instant: datetime) -> str:
        return self._format(instant, "HH:mm")

    def date(self, instant: datetime) -> str:
        return self._format(instant, "d MMMM")

    def full(self, instant: datetime) -> str:
        return self._format(instant, "d MMMM y, HH:mm")

    def moment(self, instant: datetime) -> str:
        """The time alone on the start's own day, else with the date."""
        if instant.astimezone(self.zone).date() == self.day:
            return self.time(instant)
        return self._format(instant, "d MMMM, HH:mm")

    def span(self, interval: Interval) -> str:
        """ "11:00–13:00" on the start's day, with dates when either end lies on another."""
        on_day = interval.start.astimezone(self.zone).date() == self.day
        ends_on_day = (interval.end - timedelta.resolution).astimezone(self.zone).date() == self.day
        if on_day and ends_on_day:
            return f"{self.time(interval.start)}–{self.time(interval.end)}"
        return f"{self.moment(interval.start)} – {self.moment(interval.end)}"


def reason_message(
    reason: Reason,
    explanation: Explanation,
    *,
    lang: str,
    zone: ZoneInfo,
    synced_at: datetime | None,
) -> str:
    """One reason in words, for the practitioner."""
    lang = lang if lang in _TEXTS else "ru"
    fmt = _Formatter(lang=lang, zone=zone, start=explanation.start)
    service = explanation.service
    interval = reason.interval
    code = reason.code
    if code is ReasonCode.OUTSIDE_HOURS and interval is not None:
        return _DOES_NOT_FIT[lang].format(
            duration=_length(service.duration, lang), span=fmt.span(interval)
        )
    if code is ReasonCode.OFF_GRID and interval is not None:
        return _OFF_GRID[lang].format(
            span=fmt.span(interval),
            step=f"{service.step // timedelta(minutes=1)} {_UNITS[lang][1]}",
            anchor=fmt.time(interval.start),
        )
    if code is ReasonCode.DAY_OFF and interval is not None:
        return _VACATION[lang].format(
            date=fmt.date(explanation.start),
            first=fmt.date(interval.start),
            last=fmt.date(interval.end - timedelta.resolution),
        )
    values: dict[str, Callable[[], str]] = {
        "synced": lambda: _NEVER[lang] if synced_at is None else fmt.moment(synced_at),
        "notice": lambda: _length(service.min_notice, lang),
        "deadline": lambda: fmt.moment(explanation.start - service.min_notice),
        "days": lambda: str(service.max_days_ahead),
        "horizon": lambda: fmt.full(explanation.horizon),
        "date": lambda: fmt.date(explanation.start),
        "limit": lambda: str(service.daily_limit),
        "span": lambda: "" if interval is None else fmt.span(interval),
    }
    template = _TEXTS[lang][code]
    return template.format_map(
        {name: make() for name, make in values.items() if "{" + name + "}" in template}
    )
