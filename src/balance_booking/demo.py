"""The embedded default (`make run`): demo data, the Google Calendar emulator, a demo admin."""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import uvicorn

from balance_booking.application.admin import CreateService, ListServices, ReplaceSchedule
from balance_booking.application.errors import ConflictError
from balance_booking.bootstrap import Container, create_admin
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.services import Price, Service, ServiceFormat
from balance_booking.emulators.google_calendar.app import EmulatorConfig, create_emulator_app
from balance_booking.emulators.mail_sink.server import MailSink

DEMO_SERVICES = (
    Service(
        slug="consultation",
        title="Консультация психолога",
        title_en="Psychologist consultation",
        duration=timedelta(minutes=50),
        buffer_after=timedelta(minutes=10),
        slot_step=timedelta(minutes=60),
        min_notice=timedelta(hours=12),
        max_days_ahead=60,
        description=(
            "Обычная 50-минутная сессия для тех, кто уже знаком с психологом или знает, с чем "
            "хочет работать: тревога, отношения, выгорание, трудные решения. Встречи можно "
            "продолжать регулярно, раз в неделю или реже."
        ),
        description_en=(
            "A regular 50-minute session for those who have already met the psychologist or know "
            "what they want to work on: anxiety, relationships, burnout, hard decisions. Sessions "
            "can continue regularly, weekly or less often."
        ),
        price=Price(amount=Decimal("3500.00"), currency="RUB"),
        format=ServiceFormat.EITHER,
        location=(
            "Очно: Москва, ул. Мясницкая, 24/7, стр. 1, офис 12 (м. Чистые пруды). Онлайн: "
            "ссылка на видеозвонок придёт на вашу почту за день до встречи."
        ),
    ),
    Service(
        slug="first-meeting",
        title="Первая встреча",
        title_en="First meeting",
        duration=timedelta(minutes=30),
        buffer_after=timedelta(minutes=10),
        slot_step=timedelta(minutes=60),
        min_notice=timedelta(hours=24),
        max_days_ahead=30,
        daily_limit=2,
        description=(
            "Короткое знакомство на 30 минут, если вы впервые обращаетесь к психологу. "
            "Расскажете, что вас беспокоит, зададите вопросы о том, как проходит работа, и вместе "
            "решите, подходит ли вам консультация. Ни к чему не обязывает."
        ),
        description_en=(
            "A short 30-minute introduction if you are seeing a psychologist for the first time. "
            "You tell what worries you, ask how the work goes, and together decide whether "
            "consultations suit you. No obligation."
        ),
        price=Price(amount=Decimal("1500.00"), currency="RUB"),
        format=ServiceFormat.ONLINE,
        location="Ссылка на видеозвонок придёт на вашу почту за день до встречи.",
    ),
)


def seed_demo(container: Container) -> bool:
    """Create the demo services and hours if the database has no services yet."""
    if ListServices(uow_factory=container.readers).execute():
        return False
    create = CreateService(uow_factory=container.writers)
    for service in DEMO_SERVICES:
        create.execute(service)
    weekday = (LocalWindow.parse("10:00", "14:00"), LocalWindow.parse("15:00", "19:00"))
    ReplaceSchedule(uow_factory=container.writers).execute(
        Availability(
            timezone=container.settings.default_timezone,
            weekly=dict.fromkeys(range(5), weekday),
            overrides={},
        )
    )
    return True


DEMO_CLIENT_ID = "balance-demo.apps.googleusercontent.com"
DEMO_ADMIN = "admin@example.com"
CALLBACK_PATH = "/api/admin/integrations/google-calendar/callback"


@dataclass(frozen=True, slots=True)
class DemoEmulator:
    """The emulator the demo runs next to the app, and the OAuth client registered with it."""

    base_url: str
    client_id: str
    client_secret: str


def start_demo_mail_sink(*, host: str, smtp_port: int, http_port: int) -> MailSink:
    """The development mail sink: every message the demo sends lands in its inbox page."""
    sink = MailSink(host=host, smtp_port=smtp_port, http_port=http_port)
    sink.start()
    return sink


def start_demo_emulator(*, host: str, port: int, var_dir: Path, app_base_url: str) -> DemoEmulator:
    """Run the Google Calendar emulator in a background thread, register our OAuth client and,
    on first start, put a few busy events into the owner's calendar."""
    config = EmulatorConfig(state_path=var_dir / "emulator.json")
    server = uvicorn.Server(
        uvicorn.Config(create_emulator_app(config), host=host, port=port, log_level="warning")
    )
    threading.Thread(target=server.run, name="gcal-emulator", daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the emulator did not start on {host}:{port}")
        time.sleep(0.05)
    base = f"http://{host}:{port}"
    secret = _demo_secret(var_dir / "demo_client_secret")
    with httpx.Client(base_url=base, timeout=10) as control:
        control.post(
            "/_emulator/clients",
            json={
                "client_id": DEMO_CLIENT_ID,
                "client_secret": secret,
                "redirect_uris": [app_base_url + CALLBACK_PATH],
                "name": "Эмоциональный баланс (демо)",
            },
        ).raise_for_status()
        state = control.get("/_emulator/state").json()
        if not any(state.get("events", {}).values()):
            for event in _demo_busy_events():
                control.post("/_emulator/events", json={"event": event}).raise_for_status()
    return DemoEmulator(base_url=base, client_id=DEMO_CLIENT_ID, client_secret=secret)


def _demo_busy_events() -> list[dict[str, object]]:
    """Busy time the practitioner already has: a weekly supervision and two one-off meetings."""
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    monday = today - timedelta(days=today.weekday())

    def at(day: int, hour: int, minutes: int = 0) -> str:
        return f"{monday + timedelta(days=day)}T{hour:02d}:{minutes:02d}:00"

    def event(summary: str, start: str, end: str, **extra: object) -> dict[str, object]:
        return {
            "summary": summary,
            "start": {"dateTime": start, "timeZone": "Europe/Moscow"},
            "end": {"dateTime": end, "timeZone": "Europe/Moscow"},
        } | extra

    return [
        event("Супервизия", at(1, 11), at(1, 13), recurrence=["RRULE:FREQ=WEEKLY;COUNT=12"]),
        event("Врач", at(3, 16), at(3, 17, 30)),
        event("Обед с коллегой (свободно)", at(2, 12), at(2, 13), transparency="transparent"),
        event("Конференция", at(9, 10), at(9, 19)),
    ]


def ensure_demo_admin(container: Container) -> str | None:
    """Create the demo admin once; returns the new password (shown once) or None if it exists."""
    password = secrets.token_urlsafe(12)
    try:
        create_admin(container, email=DEMO_ADMIN, password=password)
    except ConflictError:
        return None
    return password


def _demo_secret(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
