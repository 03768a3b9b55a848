"""The pages over plain HTTP (no browser needed): languages, catalogs, the manage page, the
.ics file, the busy-time API and who may open what. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from balance_booking.adapters.ics import IcsFiles
from balance_booking.bootstrap import Container
from balance_booking.domain.appointments import Appointment, AppointmentStatus, Client
from balance_booking.domain.intervals import Interval
from balance_booking.web.i18n import CATALOG_DIR, LANGUAGES, negotiate
from balance_booking.web.pages_booking import ics_invite
from tests.fakes.clock import FakeClock
from tests.support.booking import book, open_practice

ROOT = Path(__file__).resolve().parents[2]
SERVICE = {
    "slug": "session",
    "title": "Сессия",
    "title_en": "Session",
    "duration_minutes": 50,
    "slot_step_minutes": 60,
}


@pytest.fixture
def booked(admin: TestClient) -> dict[str, str]:
    """One confirmed appointment on Tuesday 1 December 2026, 10:00 Moscow (no calendar)."""
    open_practice(admin, SERVICE)
    return book(admin, "2026-12-01T10:00:00+03:00", timezone="Asia/Tokyo")


# ---- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, None, "ru"),
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "de-DE, en;q=0.8, ru;q=0.9", "ru"),
        (None, None, "fr, de", "ru"),
        (None, None, "en;q=0, ru;q=0.1", "ru"),
        (None, None, "*;q=0.5, garbage;;q=x, en-GB", "en"),
        (None, "en", "ru", "en"),
        ("ru", "en", "en", "ru"),
        ("de", None, "en", "en"),
        (None, "xx", None, "ru"),
    ],
)
def test_language_negotiation(
    query: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(query=query, cookie=cookie, accept_language=header) == expected


def test_russian_by_default_english_on_request_and_remembered(client: TestClient) -> None:
    page = client.get("/booking/slot/")
    assert '<html lang="ru">' in page.text
    assert "Запись на встречу" in page.text
    assert page.headers["content-language"] == "ru"
    assert "Accept-Language" in page.headers["vary"]

    english = client.get("/booking/slot/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Book a session" in english.text
    assert "set-cookie" not in english.headers, "a browser's preference is not stored"

    switched = client.get("/booking/slot/?lang=en", headers={"Accept-Language": "ru"})
    assert "Book a session" in switched.text
    assert "bb_lang=en" in switched.headers["set-cookie"]
    assert "SameSite=Lax" in switched.headers["set-cookie"]
    remembered = client.get("/booking/slot/", headers={"Accept-Language": "ru"})
    assert "Book a session" in remembered.text
    # The switch links keep the other query parameters.
    assert (
        'href="/booking/slot/?service=x&amp;lang=ru"' in client.get("/booking/slot/?service=x").text
    )


def test_service_titles_follow_the_language(admin: TestClient) -> None:
    assert admin.post("/api/admin/services", json=SERVICE).status_code == 201
    hidden = SERVICE | {"slug": "hidden", "title": "Скрытая", "active": False}
    assert admin.post("/api/admin/services", json=hidden).status_code == 201
    russian = admin.get("/booking/slot/?lang=ru").text
    assert 'data-title="Сессия"' in russian
    assert "50 мин" in russian
    assert "Скрытая" not in russian
    english = admin.get("/booking/slot/?lang=en").text
    assert 'data-title="Session"' in english
    assert "50 min" in english


def _extracted_ids() -> set[str | tuple[str, ...]]:
    with (CATALOG_DIR / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    ids: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def test_catalogs_are_current_and_complete() -> None:
    extracted = _extracted_ids()
    assert len(extracted) > 200
    with (CATALOG_DIR / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert template == extracted, "run `make messages` after changing texts"
    for lang in LANGUAGES:
        with (CATALOG_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        messages = {m.id: m for m in catalog if m.id}
        assert set(messages) == template, f"{lang}: run `make messages`"
        for message in messages.values():
            assert "fuzzy" not in message.flags, f"{lang}: fuzzy {message.id!r}"
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), f"{lang}: untranslated {message.id!r}"
            # "{name}" placeholders are filled by the scripts: a translation must keep them.
            source = message.id if isinstance(message.id, str) else message.id[0]
            for string in strings:
                assert set(re.findall(r"\{\w+\}", string)) == set(re.findall(r"\{\w+\}", source))
        problems = [(m.id, errors) for m, errors in catalog.check() if errors]
        assert problems == [], f"{lang}: {problems}"
    with (CATALOG_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        assert read_po(handle).num_plurals == 3


# ---- the manage page and the .ics file ------------------------------------------------------


def test_manage_page_shows_the_booking_in_the_clients_zone(
    client: TestClient, booked: dict[str, str]
) -> None:
    url = f"/booking/manage/{booked['id']}?token={booked['manage_token']}"
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "вторник, 1 декабря 2026, 16:00–16:50" in page.text  # Tokyo is six hours ahead
    assert "Токио (UTC+09:00)" in page.text  # the city in the page language (CLDR)
    assert "Подтверждена" in page.text
    assert 'id="cancel-form"' in page.text
    english = client.get(url + "&lang=en").text
    # The English clock is 12-hour (CLDR en; Babel writes a narrow no-break space before PM).
    assert "Tuesday, 1 December 2026, 4:00\u202fPM–4:50\u202fPM" in english
    assert "Tokyo (UTC+09:00)" in english


@pytest.mark.parametrize(
    "path",
    [
        "/booking/manage/{id}?token=wrong",
        "/booking/manage/{id}",
        "/booking/manage/not-a-uuid?token=x",
        "/booking/manage/00000000-0000-4000-8000-000000000000?token=x",
        "/booking/manage/{id}/calendar.ics?token=wrong",
    ],
)
def test_a_wrong_link_is_a_kind_404_page(
    client: TestClient, booked: dict[str, str], path: str
) -> None:
    page = client.get(path.format(id=booked["id"]))
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "Эта ссылка не работает" in page.text
    assert booked["manage_token"] not in page.text


def test_calendar_file_has_utc_times_and_rfc_5545_lines(
    client: TestClient, booked: dict[str, str]
) -> None:
    answer = client.get(
        f"/booking/manage/{booked['id']}/calendar.ics", params={"token": booked["manage_token"]}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    body = answer.content.decode("utf-8")
    lines = body.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == ""
    assert "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = body.replace("\r\n ", "")
    assert "DTSTART:20261201T070000Z\r\n" in unfolded
    assert "DTEND:20261201T075000Z\r\n" in unfolded
    assert f"UID:{booked['id']}@balance-booking\r\n" in unfolded
    assert "STATUS:CONFIRMED\r\n" in unfolded
    assert f"token={booked['manage_token']}" in unfolded


def test_cancel_without_javascript(client: TestClient, booked: dict[str, str]) -> None:
    url = f"/booking/manage/{booked['id']}"
    answer = client.post(url, data={"token": booked["manage_token"]}, follow_redirects=False)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "Запись отменена" in page.text
    assert 'id="cancel-form"' not in page.text
    assert 'data-status="cancelled"' in page.text
    refused = client.post(url, data={"token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 404


def test_inside_the_cutoff_the_manage_page_offers_no_changes(
    admin: TestClient, client: TestClient, clock: FakeClock, booked: dict[str, str]
) -> None:
    cutoff = admin.patch("/api/admin/services/session", json={"change_cutoff_minutes": 90})
    assert cutoff.status_code == 200, cutoff.text
    url = f"/booking/manage/{booked['id']}?token={booked['manage_token']}"
    before = client.get(url).text
    assert 'id="move-start"' in before
    assert 'id="cancel-form"' in before
    assert 'id="change-closed"' not in before
    # Tuesday 10:00 Moscow less 90 minutes is 08:30; one minute before is still allowed.
    clock.set(datetime(2026, 12, 1, 5, 29, tzinfo=UTC))
    assert 'id="move-start"' in client.get(url).text
    clock.set(datetime(2026, 12, 1, 5, 30, tzinfo=UTC))
    inside = client.get(url).text
    assert 'id="move-start"' not in inside
    assert 'id="cancel-form"' not in inside
    assert "Эту запись уже нельзя изменить онлайн" in inside
    assert "не позже чем за 90 мин до встречи" in inside
    assert "up to 90 min before the meeting" in client.get(url + "&lang=en").text
    # The form of a page loaded earlier, sent without JavaScript: refused, and not "cancelled".
    answer = client.post(
        f"/booking/manage/{booked['id']}",
        data={"token": booked["manage_token"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "cancelled=1" not in answer.headers["location"]
    page = client.get(answer.headers["location"]).text
    assert "Запись отменена" not in page
    assert 'data-status="confirmed"' in page


def test_ics_text_is_escaped_and_folded() -> None:
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    appointment = Appointment(
        id=uuid4(),
        service_slug="s",
        start=start,
        end=start + timedelta(minutes=50),
        buffer_before=timedelta(0),
        buffer_after=timedelta(0),
        client=Client(name="A", email="a@example.com"),
        client_timezone="Europe/London",
        comment=None,
        status=AppointmentStatus.CANCELLED,
        hold_expires_at=None,
        created_at=start,
    )
    invite = ics_invite(
        appointment,
        title="Сессия; пары, семьи\\группы\nи не только " + "о" * 80,
        organizer_name="Эмоциональный баланс",
        manage_url="https://example.com/m",
        now=start,
        lang="ru",
    )
    body = IcsFiles().invite(invite).decode()
    unfolded = body.replace("\r\n ", "")
    assert "SUMMARY:Сессия\\; пары\\, семьи\\\\группы\\nи не только " in unfolded
    assert "STATUS:CANCELLED\r\n" in unfolded
    assert "DTSTART:20260329T003000Z\r\n" in unfolded
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert "о" * 80 + " · Эмоциональный баланс\r\n" in unfolded, "folding loses nothing"


# ---- the admin side ---------------------------------------------------------------------------


def test_admin_pages_send_strangers_to_sign_in(client: TestClient) -> None:
    page = client.get("/admin/schedule/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login?next=/admin/schedule/"
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/schedule/"
    assert client.get("/api/admin/busy").status_code == 401


def test_schedule_page_renders_for_an_admin(admin: TestClient) -> None:
    page = admin.get("/admin/schedule/")
    assert page.status_code == 200
    assert "Расписание и записи" in page.text
    assert 'data-owner-tz="Europe/Moscow"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_the_schedule_page_offers_the_apis_defaults_for_a_new_service(
    admin: TestClient,
) -> None:
    page = admin.get("/admin/schedule/").text
    found = re.search(r'data-service-defaults="([^"]*)"', page)
    assert found is not None
    offered = json.loads(html.unescape(found.group(1)))
    required = {"slug": "bare", "title": "Bare", "duration_minutes": 30}
    assert admin.post("/api/admin/services", json=required).status_code == 201
    stored = next(
        s for s in admin.get("/api/admin/services").json()["services"] if s["slug"] == "bare"
    )
    # Every optional field is offered, with the value the API fills in when it is left out
    # (a missing step means "the duration", which the API answers as a number).
    assert set(offered) | set(required) == set(stored)
    assert offered.pop("slot_step_minutes") is None
    assert stored["slot_step_minutes"] == required["duration_minutes"]
    assert {name: stored[name] for name in offered} == offered
    assert offered["min_notice_minutes"] == 0


def test_busy_api_reads_the_mirror_in_the_owners_zone(
    admin: TestClient, container: Container
) -> None:
    blocks = [
        Interval(datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)),
        Interval(datetime(2026, 12, 9, 8, tzinfo=UTC), datetime(2026, 12, 9, 9, tzinfo=UTC)),
    ]
    with container.writers() as uow:
        uow.busy.replace_all(blocks, source="test")
        uow.commit()
    week = admin.get("/api/admin/busy").json()  # default: this week from today (30 November)
    assert week == {
        "timezone": "Europe/Moscow",
        "from": "2026-11-30T00:00:00+03:00",
        "to": "2026-12-07T00:00:00+03:00",
        "busy": [{"start": "2026-12-01T11:00:00+03:00", "end": "2026-12-01T13:00:00+03:00"}],
    }
    later = admin.get("/api/admin/busy", params={"from": "2026-12-09", "to": "2026-12-09"})
    assert later.json()["busy"] == [
        {"start": "2026-12-09T11:00:00+03:00", "end": "2026-12-09T12:00:00+03:00"}
    ]
    refused = admin.get("/api/admin/busy", params={"from": "2026-12-09", "to": "2026-12-01"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_request"
    assert "/api/admin/busy" in admin.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("language", "title"), [("ru", "Такой страницы нет"), ("en", "There is no such page")]
)
def test_an_unknown_page_is_a_page_in_the_visitors_language(
    client: TestClient, language: str, title: str
) -> None:
    answer = client.get("/booking/nope/at/all", headers={"Accept-Language": language})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert title in answer.text
    assert 'href="/booking/slot/"' in answer.text
    assert "Content-Security-Policy" in answer.headers


def test_unknown_machine_paths_keep_answering_json(client: TestClient) -> None:
    for path in ("/api/nope", "/api/public/booking/nope", "/static/nope.css", "/_nope"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found", path


@pytest.mark.both_databases
def test_the_google_warning_follows_a_practice_that_used_google(
    admin: TestClient, container: Container
) -> None:
    """docs/pages.md, "The Google warning": never connected -> quiet; connected once and now
    disconnected or switched off -> on every admin page but the integrations page."""
    open_practice(admin, SERVICE)
    assert 'id="google-warning"' not in admin.get("/admin/schedule/").text
    with container.writers() as uow:  # as a disconnect leaves it: the account is remembered
        record = uow.integration.get_for_update()
        record.account_email = "owner@example.com"
        uow.integration.save(record, now=container.clock.now())
        uow.commit()
    for path in ("/admin/schedule/", "/admin/audit/"):
        page = admin.get(path, headers={"Accept-Language": "ru"}).text
        assert 'data-kind="disconnected"' in page
        assert "Google Календарь отключён." in page
        assert "Google Calendar is not connected: free time" not in page  # no second note
    integrations = admin.get("/admin/settings/integrations").text
    assert 'id="google-warning"' not in integrations
    assert 'id="disconnected-warning"' in integrations

    switched = admin.put(
        "/api/admin/integrations/google-calendar/settings", json={"enabled": False}
    )
    assert switched.status_code == 200
    english = admin.get("/admin/schedule/", headers={"Accept-Language": "en"}).text
    assert 'data-kind="switched_off"' in english
    assert "Google busy time is switched off." in english
