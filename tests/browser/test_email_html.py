"""The HTML part of the e-mails in Chromium: each kind in Russian and English renders, fits a
phone, shows its button, and is saved under build/screenshots/ to be looked at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from balance_booking.adapters.ics import IcsFiles
from balance_booking.adapters.mail.compose import MailComposer
from balance_booking.application.ports import CalendarInvite, Mail, MailKind, PractitionerNotice
from tests.browser.conftest import shoot
from tests.fakes.clock import START, FakeClock

APPOINTMENT = UUID("0b6f5b8e-3d1c-4e63-9f3a-6a1f0c2d9e41")
AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
MANAGE = f"https://balance.example.org/booking/manage/{APPOINTMENT}?token=t0ken"


def rendered(kind: MailKind, language: str) -> EmailMessage:
    composer = MailComposer(
        "Эмоциональный баланс <booking@balance.example.org>",
        calendar_files=IcsFiles(),
        clock=FakeClock(START),
    )
    practitioner = kind is MailKind.PRACTITIONER
    return composer.compose(
        Mail(
            kind=kind,
            message_id=f"<{kind.value}.{APPOINTMENT}@balance.example.org>",
            to="maria@example.com",
            language=language,
            service_title="Консультация" if language == "ru" else "Consultation",
            start=AT,
            end=AT + timedelta(minutes=50),
            timezone="Asia/Yekaterinburg",
            recipient_name=None if practitioner else "Мария",
            manage_url=MANAGE,
            notice=PractitionerNotice.BOOKED if practitioner else None,
            client_name="Мария" if practitioner else None,
            client_email="maria@example.com" if practitioner else None,
            admin_url="https://balance.example.org/admin/schedule/" if practitioner else None,
            invite=CalendarInvite(
                uid=f"{APPOINTMENT}@balance-booking",
                sequence=0,
                start=AT,
                end=AT + timedelta(minutes=50),
                summary="Консультация",
                stamp=START,
            ),
        )
    )


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("kind", [MailKind.CONFIRMED, MailKind.PRACTITIONER])
def test_the_html_part_reads_well_on_a_phone(phone: Page, kind: MailKind, language: str) -> None:
    message = rendered(kind, language)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    phone.set_content(html.get_content())
    expect(phone.locator("html")).to_have_attribute("lang", language)
    button = phone.get_by_role("link").first
    expect(button).to_be_visible()
    if kind is MailKind.CONFIRMED:
        assert button.get_attribute("href") == MANAGE
        expected = "Мария" if language == "ru" else "Hello Мария"
        expect(phone.locator("body")).to_contain_text(expected)
        expect(phone.locator("body")).to_contain_text(
            "13:00 (Екатеринбург)" if language == "ru" else "1:00\u202fPM (Yekaterinburg)"
        )
    shoot(phone, f"mail-{kind.value}-{language}")
