"""What the routers need, handed in by the composition root; `Annotated` aliases for FastAPI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from balance_booking.application.admin import (
    AuthenticateAdminToken,
    CreateService,
    DeleteService,
    GetSchedule,
    ListServices,
    ReplaceSchedule,
    UpdateService,
)
from balance_booking.application.availability import (
    GetOwnerTimezone,
    ListAvailableSlots,
    ListPublicServices,
)
from balance_booking.application.google_connection import (
    CompleteGoogleConnection,
    DisconnectGoogleCalendar,
    GetIntegrationStatus,
    SetIntegrationEnabled,
    StartGoogleConnection,
)
from balance_booking.application.ports import AdminToken, Clock
from balance_booking.web.errors import ApiError


@dataclass(frozen=True, slots=True)
class WebServices:
    """The use cases the web layer calls, built by bootstrap."""

    clock: Clock
    list_slots: ListAvailableSlots
    list_public_services: ListPublicServices
    owner_timezone: GetOwnerTimezone
    get_schedule: GetSchedule
    replace_schedule: ReplaceSchedule
    list_services: ListServices
    create_service: CreateService
    update_service: UpdateService
    delete_service: DeleteService
    authenticate_token: AuthenticateAdminToken
    database_ready: Callable[[], bool]
    integration_status: GetIntegrationStatus
    start_connection: StartGoogleConnection
    complete_connection: CompleteGoogleConnection
    disconnect: DisconnectGoogleCalendar
    set_integration_enabled: SetIntegrationEnabled


def _services(request: Request) -> WebServices:
    services: WebServices = request.app.state.services
    return services


ServicesDep = Annotated[WebServices, Depends(_services)]

_bearer = HTTPBearer(auto_error=False, description="Admin API token from `create-admin-token`")


def _admin(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AdminToken:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "Admin credentials required.", headers=challenge)
    token = services.authenticate_token.execute(credentials.credentials)
    if token is None:
        raise ApiError(401, "unauthorized", "Invalid admin credentials.", headers=challenge)
    return token


AdminDep = Annotated[AdminToken, Depends(_admin)]
