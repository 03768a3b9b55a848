"""The words of an explanation: every code in both languages, times in the owner's zone."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from balance_booking.domain.explain import Explanation, Reason, ReasonCode
from balance_booking.web.explain_text import reason_message
from tests.unit.domain.builders import iv, service, utc

MOSCOW = ZoneInfo("Europe/Moscow")
START = utc(2026, 12, 2, 9)  # 12:00 Moscow
EXPLANATION = Explanation(
    service=service(min_notice=timedelta(hours=24), daily_limit=2, max_days_ahead=30),
    start=START,
    end=START + timedelta(hours=1),
    reasons=(),
    now=utc(2026, 12, 1, 9),
    horizon=utc(2026, 12, 31, 9),
)
WINDOW = iv(utc(2026, 12, 2, 7), utc(2026, 12, 2, 15))  # 10:00-18:00 Moscow


def message(reason: Reason, lang: str) -> str:
    return reason_message(
        reason, EXPLANATION, lang=lang, zone=MOSCOW, synced_at=utc(2026, 12, 2, 4)
    )


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("code", list(ReasonCode))
def test_every_code_has_words_in_both_languages(code: ReasonCode, lang: str) -> None:
    interval = WINDOW if code in {ReasonCode.OFF_GRID, ReasonCode.OUTSIDE_HOURS} else None
    if code in {ReasonCode.BUSY, ReasonCode.BOOKED, ReasonCode.HELD, ReasonCode.BUFFER}:
        interval = iv(utc(2026, 12, 2, 8), utc(2026, 12, 2, 10))
    if code is ReasonCode.MIN_NOTICE:
        interval = iv(EXPLANATION.now, EXPLANATION.now + timedelta(hours=24))
    text = message(Reason(code, interval), lang)
    assert text
    assert "{" not in text
    assert "}" not in text
    if interval is not None and code is not ReasonCode.MIN_NOTICE:
        assert "11:00" in text or "10:00" in text


def test_the_practitioners_words() -> None:
    busy = Reason(ReasonCode.BUSY, iv(utc(2026, 12, 2, 8), utc(2026, 12, 2, 10)))
    assert message(busy, "ru") == "Занято в Google Календаре: 11:00–13:00"
    assert message(busy, "en") == "Busy in Google Calendar: 11:00–13:00"
    assert message(Reason(ReasonCode.OFF_GRID, WINDOW), "ru") == (
        "Не по сетке записи: в рабочие часы 10:00–18:00 встречи начинаются каждые 60 мин, с 10:00."
    )
    assert message(Reason(ReasonCode.DAILY_LIMIT), "en") == (
        "The daily limit is reached: at most 2 such meetings a day."
    )
    assert message(Reason(ReasonCode.DAY_OFF), "ru") == (
        "Выходной: 2 декабря — особый день без рабочих часов."
    )
    assert "07:00" in message(Reason(ReasonCode.CALENDAR_STALE), "ru")


def test_an_interval_on_other_days_carries_its_dates() -> None:
    overnight = Reason(ReasonCode.BUSY, iv(utc(2026, 12, 1, 18), utc(2026, 12, 2, 10)))
    assert message(overnight, "ru") == "Занято в Google Календаре: 1 декабря, 21:00 – 13:00"
    assert message(overnight, "en") == "Busy in Google Calendar: 1 December, 21:00 – 13:00"


def test_a_vacation_day_names_the_whole_vacation() -> None:
    # Moscow midnight of 1 December to midnight after 7 December: a vacation of 1..7 December.
    vacation = Reason(ReasonCode.DAY_OFF, iv(utc(2026, 11, 30, 21), utc(2026, 12, 7, 21)))
    assert message(vacation, "ru") == "Выходной: 2 декабря — отпуск с 1 декабря по 7 декабря."
    assert (
        message(vacation, "en")
        == "Day off: 2 December is part of the vacation from 1 December to 7 December."
    )
