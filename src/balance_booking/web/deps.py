"""What the routers need, handed in by the composition root; `Annotated` aliases for FastAPI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from balance_booking.application.admin import (
    AuthenticateAdminToken,
    CreateService,
    DeleteService,
    GetSchedule,
    ListAdminTokens,
    ListServices,
    ReplaceSchedule,
    RevokeAdminToken,
    UpdateService,
)
from balance_booking.application.audit import ListAuditLog
from balance_booking.application.availability import (
    GetOwnerTimezone,
    ListAvailableSlots,
    ListPublicServices,
)
from balance_booking.application.booking import (
    BookAppointment,
    CancelAppointment,
    ConfirmAppointment,
    GetAppointment,
    ListAppointments,
)
from balance_booking.application.busy_view import ListBusyBlocks
from balance_booking.application.connect import CompleteGoogleConnection, StartGoogleConnection
from balance_booking.application.edge import PublicWriteLimit
from balance_booking.application.explain import ExplainAvailability
from balance_booking.application.integration import (
    BlockingCalendars,
    DisconnectGoogleCalendar,
    GetCalendarWarning,
    GetIntegrationStatus,
    SetIntegrationEnabled,
)
from balance_booking.application.offers import (
    AcceptOffer,
    DeclineOffer,
    GetOffer,
    ListWaitlistWithOffers,
    RemoveWaitlistEntry,
)
from balance_booking.application.outbox_admin import (
    GetEmailStatus,
    ListParkedMessages,
    RetryParkedMessage,
)
from balance_booking.application.ports import CalendarFiles, Clock
from balance_booking.application.privacy import EraseClientData, ExportClientData
from balance_booking.application.push import EnsurePushChannel, HandlePushNotification
from balance_booking.application.self_service import (
    BookForClient,
    CancelSeries,
    RescheduleAppointment,
)
from balance_booking.application.sync import SyncCalendarBusyTimes
from balance_booking.application.sync_triggers import SyncCoalescer
from balance_booking.application.tracking import TrackEvent
from balance_booking.application.waitlist import JoinWaitlist
from balance_booking.web.auth import AdminAuthServices, AdminDep, PageAdminDep
from balance_booking.web.edge import EdgeOptions
from balance_booking.web.slots_cache import RenderedSlots
from balance_booking.web.threads import RequestThreads

# AdminDep and PageAdminDep live in web/auth.py; routers take them from here with the rest.
__all__ = ["AdminDep", "PageAdminDep", "ServicesDep", "ThreadsDep", "WebServices"]


@dataclass(frozen=True, slots=True)
class WebServices:
    """The use cases the web layer calls, built by bootstrap."""

    clock: Clock
    list_slots: ListAvailableSlots
    explain_availability: ExplainAvailability  # why a start is (not) offered: api/admin/explain.py
    rendered_slots: RenderedSlots  # finished public slots answers (api/public/slots.py)
    list_public_services: ListPublicServices
    owner_timezone: GetOwnerTimezone
    get_schedule: GetSchedule
    replace_schedule: ReplaceSchedule
    list_services: ListServices
    create_service: CreateService
    update_service: UpdateService
    delete_service: DeleteService
    authenticate_token: AuthenticateAdminToken
    list_tokens: ListAdminTokens
    revoke_token: RevokeAdminToken
    database_ready: Callable[[], bool]
    admin_auth: AdminAuthServices
    integration_status: GetIntegrationStatus
    calendar_warning: GetCalendarWarning  # the banner on every admin page (templating.py)
    start_connection: StartGoogleConnection
    complete_connection: CompleteGoogleConnection
    disconnect: DisconnectGoogleCalendar
    set_integration_enabled: SetIntegrationEnabled
    blocking_calendars: BlockingCalendars  # which of the owner's calendars block time
    sync: SyncCalendarBusyTimes
    book: BookAppointment
    confirm_appointment: ConfirmAppointment
    cancel_appointment: CancelAppointment
    public_writes: PublicWriteLimit | None  # PUBLIC_WRITE_LIMIT; None: no limit
    edge: EdgeOptions  # security headers, the docs page, the metrics token
    reschedule_appointment: RescheduleAppointment
    book_for_client: BookForClient
    cancel_series: CancelSeries
    get_appointment: GetAppointment
    list_appointments: ListAppointments
    join_waitlist: JoinWaitlist
    privacy_policy_url: str | None  # PRIVACY_POLICY_URL: the consent box links to it
    export_client: ExportClientData
    erase_client: EraseClientData
    list_audit: ListAuditLog
    list_waitlist: ListWaitlistWithOffers  # each entry with the time held for it, if any
    remove_waitlist_entry: RemoveWaitlistEntry
    get_offer: GetOffer
    accept_offer: AcceptOffer
    decline_offer: DeclineOffer
    track_event: TrackEvent
    ensure_push: EnsurePushChannel
    handle_push: HandlePushNotification
    push_syncs: SyncCoalescer  # this process's coalescer for push-triggered syncs
    list_busy: ListBusyBlocks  # the busy mirror for the admin week view (pages_admin)
    email_status: GetEmailStatus
    calendar_files: CalendarFiles  # .ics files (the manage page's download)
    list_parked: ListParkedMessages
    retry_parked: RetryParkedMessage


async def _services(request: Request) -> WebServices:
    # A coroutine on purpose: FastAPI runs a plain function dependency in its thread pool, and
    # that hop cost more than the rest of a cached slots answer (docs/benchmarks.md).
    services: WebServices = request.app.state.services
    return services


ServicesDep = Annotated[WebServices, Depends(_services)]


async def _threads(request: Request) -> RequestThreads:
    threads: RequestThreads = request.app.state.threads
    return threads


# The booking endpoint's own threads (web/threads.py).
ThreadsDep = Annotated[RequestThreads, Depends(_threads)]


def limit_public_writes(request: Request, services: ServicesDep) -> None:
    """Count one public write from the client address (the socket peer, or the X-Forwarded-For
    hop a trusted proxy wrote: uvicorn's FORWARDED_ALLOW_IPS); 429 once over the limit."""
    if services.public_writes is not None:
        services.public_writes.check(request.client.host if request.client else "unknown")


PublicWrite = Depends(limit_public_writes)
