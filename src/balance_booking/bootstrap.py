"""The composition root: Settings -> adapters -> use cases -> web app. Nothing else wires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine, text

from balance_booking.adapters.db.engine import build_engine
from balance_booking.adapters.db.migrate import migrate
from balance_booking.adapters.db.uow import SqlUnitOfWorkFactory
from balance_booking.adapters.system_clock import SystemClock
from balance_booking.application.admin import (
    AuthenticateAdminToken,
    CreateAdminToken,
    CreateService,
    DeleteService,
    GetSchedule,
    ListServices,
    ReplaceSchedule,
    UpdateService,
)
from balance_booking.application.availability import (
    CalendarPolicy,
    GetOwnerTimezone,
    ListAvailableSlots,
    ListPublicServices,
)
from balance_booking.application.ports import Clock
from balance_booking.config import Settings
from balance_booking.web.app import create_app
from balance_booking.web.deps import WebServices


@dataclass(frozen=True, slots=True)
class Container:
    """Everything a process needs, built once from Settings."""

    settings: Settings
    engine: Engine
    clock: Clock
    readers: SqlUnitOfWorkFactory
    writers: SqlUnitOfWorkFactory

    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    engine = build_engine(settings.database_url)
    return Container(
        settings=settings,
        engine=engine,
        clock=clock or SystemClock(),
        readers=SqlUnitOfWorkFactory(engine),
        writers=SqlUnitOfWorkFactory(engine, write=True),
    )


def migrate_database(container: Container) -> None:
    migrate(container.engine)


def database_ready(engine: Engine) -> bool:
    """True when a trivial query succeeds."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not ready"; /readyz reports it
        return False
    return True


def build_web_services(container: Container) -> WebServices:
    settings = container.settings
    zone = settings.default_timezone
    policy = CalendarPolicy(
        enabled_by_default=settings.gcal_integration_enabled,
        stale_after=timedelta(seconds=settings.stale_after_seconds),
        retry_after_seconds=min(settings.sync_interval_seconds, 300),
    )
    return WebServices(
        clock=container.clock,
        list_slots=ListAvailableSlots(
            uow_factory=container.readers,
            clock=container.clock,
            policy=policy,
            default_timezone=zone,
        ),
        list_public_services=ListPublicServices(uow_factory=container.readers),
        owner_timezone=GetOwnerTimezone(uow_factory=container.readers, default_timezone=zone),
        get_schedule=GetSchedule(uow_factory=container.readers, default_timezone=zone),
        replace_schedule=ReplaceSchedule(uow_factory=container.writers),
        list_services=ListServices(uow_factory=container.readers),
        create_service=CreateService(uow_factory=container.writers),
        update_service=UpdateService(uow_factory=container.writers),
        delete_service=DeleteService(uow_factory=container.writers),
        authenticate_token=AuthenticateAdminToken(uow_factory=container.readers),
        database_ready=lambda: database_ready(container.engine),
    )


def build_app(container: Container) -> FastAPI:
    return create_app(build_web_services(container))


def app_from_environment() -> FastAPI:
    """Uvicorn factory for multi-process serving: each process builds its own container."""
    return build_app(build_container(Settings()))


def create_admin_token(container: Container, *, name: str) -> str:
    return (
        CreateAdminToken(uow_factory=container.writers, clock=container.clock)
        .execute(name=name)
        .secret
    )
