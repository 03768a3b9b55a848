from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from balance_booking.domain.errors import InvalidService
from balance_booking.domain.services import Service
from tests.unit.domain.builders import minutes, service


def test_defaults_follow_the_api_contract() -> None:
    plain = Service(slug="intro", title="Знакомство", duration=minutes(50))
    assert plain.buffer_before == plain.buffer_after == timedelta(0)
    assert plain.slot_step is None
    assert plain.step == minutes(50)
    assert plain.min_notice == timedelta(0)
    assert plain.max_days_ahead == 90
    assert plain.daily_limit is None
    assert plain.requires_payment is False
    assert plain.active is True


def test_step_overrides_duration() -> None:
    assert service(duration=minutes(50), slot_step=minutes(60)).step == minutes(60)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"slug": "a"}, id="one-char-slug"),
        pytest.param({"slug": "0-couples-therapy"}, id="digit-first-slug"),
        pytest.param({"slug": "a" * 63}, id="63-char-slug"),
        pytest.param({"title": "x" * 200}, id="200-char-title"),
        pytest.param({"title_en": "Session"}, id="english-title"),
        pytest.param({"duration": minutes(5)}, id="shortest"),
        pytest.param({"duration": timedelta(hours=24)}, id="longest"),
        pytest.param(
            {"buffer_before": timedelta(hours=24), "buffer_after": minutes(1)}, id="buffers"
        ),
        pytest.param({"slot_step": minutes(5)}, id="smallest-step"),
        pytest.param({"min_notice": timedelta(seconds=90)}, id="notice-any-length"),
        pytest.param({"max_days_ahead": 1}, id="one-day-ahead"),
        pytest.param({"max_days_ahead": 730}, id="two-years-ahead"),
        pytest.param({"daily_limit": 1}, id="limit-one"),
    ],
)
def test_valid_services(changes: dict[str, Any]) -> None:
    built = service(**changes)
    for name, value in changes.items():
        assert getattr(built, name) == value


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"slug": ""}, id="empty-slug"),
        pytest.param({"slug": "-intro"}, id="dash-first"),
        pytest.param({"slug": "Intro"}, id="upper-case"),
        pytest.param({"slug": "intro_1"}, id="underscore"),
        pytest.param({"slug": "a" * 64}, id="64-char-slug"),
        pytest.param({"slug": "intro\n"}, id="trailing-newline"),
        pytest.param({"slug": "консультация"}, id="cyrillic-slug"),
        pytest.param({"title": ""}, id="empty-title"),
        pytest.param({"title": "   "}, id="blank-title"),
        pytest.param({"title": "x" * 201}, id="201-char-title"),
        pytest.param({"title_en": ""}, id="empty-english-title"),
        pytest.param({"duration": minutes(4)}, id="too-short"),
        pytest.param({"duration": timedelta(hours=24, minutes=1)}, id="too-long"),
        pytest.param({"duration": timedelta(minutes=50, seconds=30)}, id="part-minute"),
        pytest.param({"duration": 50}, id="int-duration"),
        pytest.param({"buffer_before": minutes(-5)}, id="negative-buffer"),
        pytest.param({"buffer_after": timedelta(hours=24, minutes=1)}, id="buffer-over-a-day"),
        pytest.param({"buffer_after": timedelta(seconds=30)}, id="part-minute-buffer"),
        pytest.param({"slot_step": minutes(4)}, id="tiny-step"),
        pytest.param({"slot_step": timedelta(minutes=15, seconds=1)}, id="part-minute-step"),
        pytest.param({"slot_step": timedelta(days=2)}, id="step-over-a-day"),
        pytest.param({"min_notice": minutes(-1)}, id="negative-notice"),
        pytest.param({"max_days_ahead": 0}, id="zero-days-ahead"),
        pytest.param({"max_days_ahead": 731}, id="too-far-ahead"),
        pytest.param({"max_days_ahead": True}, id="bool-days-ahead"),
        pytest.param({"daily_limit": 0}, id="zero-limit"),
        pytest.param({"daily_limit": 2.5}, id="float-limit"),
    ],
)
def test_invalid_services(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidService):
        service(**changes)
