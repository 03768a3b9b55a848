"""The composition root: Settings -> adapters -> use cases -> web app. Nothing else wires."""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, text

from balance_booking.adapters.crypto import FernetTokenCipher
from balance_booking.adapters.db.data_version import CachedDataVersion
from balance_booking.adapters.db.engine import build_engine, forget_deleted
from balance_booking.adapters.db.locks import DatabaseJobLock
from balance_booking.adapters.db.migrate import migrate
from balance_booking.adapters.db.uow import SqlUnitOfWorkFactory
from balance_booking.adapters.google_calendar.gateway import GoogleCalendarHttpGateway
from balance_booking.adapters.google_calendar.oauth import GoogleOAuthClient
from balance_booking.adapters.google_calendar.transport import GoogleTransport, RetryPolicy
from balance_booking.adapters.ics import IcsFiles
from balance_booking.adapters.logging_setup import configure_logging
from balance_booking.adapters.metrics import PrometheusMetrics
from balance_booking.adapters.passwords import Argon2PasswordHasher
from balance_booking.adapters.slots_cache import InMemorySlotsCache
from balance_booking.adapters.system_clock import SystemClock
from balance_booking.application.admin import (
    DEFAULT_TOKEN_LIFETIME,
    AuthenticateAdminToken,
    CreateAdminToken,
    CreateService,
    DeleteService,
    GetSchedule,
    ListAdminTokens,
    ListServices,
    ReplaceSchedule,
    RevokeAdminToken,
    UpdateService,
)
from balance_booking.application.admin_auth import (
    DEFAULT_SESSION_TTL,
    AuthenticateSession,
    CreateAdmin,
    Login,
    Logout,
)
from balance_booking.application.audit import AuditTrail, ListAuditLog
from balance_booking.application.availability import (
    CalendarPolicy,
    GetOwnerTimezone,
    ListAvailableSlots,
    ListPublicServices,
)
from balance_booking.application.booking import (
    BookAppointment,
    CancelAppointment,
    ConfirmAppointment,
    ExpireHolds,
    GetAppointment,
    ListAppointments,
    ManageTokens,
)
from balance_booking.application.busy_view import ListBusyBlocks
from balance_booking.application.connect import CompleteGoogleConnection, StartGoogleConnection
from balance_booking.application.edge import PruneEdgeData, PublicWriteLimit
from balance_booking.application.email import EmailMessages, MailLinks, mail_domain
from balance_booking.application.explain import ExplainAvailability
from balance_booking.application.export import (
    CreateCalendarEventForAppointment,
    DeleteCalendarEventForAppointment,
    EventDrafts,
    GoogleCalendarMessages,
    GoogleWriteHold,
    MoveCalendarEventForAppointment,
)
from balance_booking.application.handlers import OutboxHandlers
from balance_booking.application.integration import (
    BlockingCalendars,
    DisconnectGoogleCalendar,
    GetCalendarWarning,
    GetIntegrationStatus,
    SetIntegrationEnabled,
)
from balance_booking.application.messages import MailPolicy, Messages, lead_label
from balance_booking.application.offers import (
    AcceptOffer,
    DeclineOffer,
    GetOffer,
    ListWaitlistWithOffers,
    MatchWaitlist,
    RemoveWaitlistEntry,
)
from balance_booking.application.outbox import Backoff, OutboxDispatcher
from balance_booking.application.outbox_admin import (
    GetEmailStatus,
    ListParkedMessages,
    RetryParkedMessage,
)
from balance_booking.application.ports import (
    AccessTokenSource,
    AdminUser,
    CalendarGateway,
    CalendarGatewayFactory,
    Clock,
)
from balance_booking.application.privacy import (
    ApplyRetention,
    ConsentPolicy,
    EraseClientData,
    ExportClientData,
)
from balance_booking.application.push import EnsurePushChannel, HandlePushNotification, push_address
from balance_booking.application.reconcile import ReconcileExportedEvents
from balance_booking.application.self_service import (
    BookForClient,
    CancelSeries,
    RescheduleAppointment,
)
from balance_booking.application.slot_guard import ConflictLog, SlotGuard
from balance_booking.application.sync import SyncCalendarBusyTimes
from balance_booking.application.sync_triggers import PollBusyTimes, SyncCoalescer
from balance_booking.application.tokens import GoogleTokens, RotateTokenKeys, RotationReport
from balance_booking.application.tracking import TrackEvent
from balance_booking.application.waitlist import JoinWaitlist
from balance_booking.config import Settings
from balance_booking.web.paths import WEBHOOK_PATH
from balance_booking.worker.jobs import FRESH_ENOUGH, schedule
from balance_booking.worker.loop import WorkerLoop

if TYPE_CHECKING:
    from fastapi import FastAPI

    from balance_booking.web.auth import AdminAuthServices
    from balance_booking.web.deps import WebServices

# The web layer (FastAPI, the pages, Jinja2, Babel: ~25 MiB) is imported by the functions that
# build it, so that `balance-booking worker` stays within its memory budget without it.


@dataclass(frozen=True, slots=True)
class Container:
    """Everything a process needs, built once from Settings."""

    settings: Settings
    engine: Engine
    clock: Clock
    readers: SqlUnitOfWorkFactory
    writers: SqlUnitOfWorkFactory
    cipher: FernetTokenCipher
    metrics: PrometheusMetrics
    google_http: httpx.Client
    oauth: GoogleOAuthClient | None
    gateways: CalendarGatewayFactory
    tokens: GoogleTokens
    versions: CachedDataVersion
    slots_cache: InMemorySlotsCache
    messages: Messages  # which outbox rows a change queues (e-mail per the settings)

    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.google_http.close()
        self.engine.dispose()


# Every call to Google has a deadline: connect fast, and never wait long for a slow answer.
GOOGLE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
CALLBACK_PATH = "/api/admin/integrations/google-calendar/callback"


def build_container(
    settings: Settings, *, clock: Clock | None = None, retry: RetryPolicy | None = None
) -> Container:
    engine = build_engine(settings.database_url)
    clock = clock or SystemClock()
    versions = CachedDataVersion(engine)
    # Every committed change that affects availability refreshes this process's view at once.
    readers = SqlUnitOfWorkFactory(engine, on_change=versions.invalidate)
    # Every write transaction inside an admin action carries its audit entry (application/audit.py).
    writers = SqlUnitOfWorkFactory(
        engine, write=True, on_change=versions.invalidate, before_commit=AuditTrail(clock)
    )
    cipher = FernetTokenCipher(settings.resolved_encryption_keys())
    metrics = PrometheusMetrics()
    google_http = httpx.Client(timeout=GOOGLE_TIMEOUT, follow_redirects=False)
    transport = GoogleTransport(google_http, policy=retry)
    oauth = None
    if settings.google_client_id:
        oauth = GoogleOAuthClient(
            transport,
            clock=clock,
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret.get_secret_value(),
            auth_url=settings.google_auth_url,
            token_url=settings.google_token_url,
            revoke_url=settings.google_revoke_url,
            userinfo_url=settings.google_userinfo_url,
            redirect_uri=settings.public_base_url + CALLBACK_PATH,
        )
    base_url = settings.google_calendar_api_url

    def gateways(tokens: AccessTokenSource) -> CalendarGateway:
        return GoogleCalendarHttpGateway(transport, base_url=base_url, tokens=tokens)

    tokens = GoogleTokens(
        uow_factory=writers, oauth=oauth, cipher=cipher, clock=clock, metrics=metrics
    )
    return Container(
        settings=settings,
        engine=engine,
        clock=clock,
        readers=readers,
        writers=writers,
        cipher=cipher,
        metrics=metrics,
        google_http=google_http,
        oauth=oauth,
        gateways=gateways,
        tokens=tokens,
        versions=versions,
        slots_cache=InMemorySlotsCache(ttl_seconds=settings.cache_ttl_seconds),
        messages=Messages(
            mail=MailPolicy(
                enabled=settings.smtp_url is not None,
                practitioner=settings.practitioner_email is not None,
                reminders=settings.reminder_leads(),
            )
        ),
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


def calendar_policy(settings: Settings) -> CalendarPolicy:
    return CalendarPolicy(
        enabled_by_default=settings.gcal_integration_enabled,
        stale_after=timedelta(seconds=settings.stale_after_seconds),
        retry_after_seconds=min(settings.sync_interval_seconds, 300),
    )


def build_list_slots(container: Container) -> ListAvailableSlots:
    """The public slots answers, cached per data version (the booking checks share them)."""
    settings = container.settings
    return ListAvailableSlots(
        uow_factory=container.readers,
        clock=container.clock,
        policy=calendar_policy(settings),
        default_timezone=settings.default_timezone,
        versions=container.versions,
        cache=container.slots_cache,
        metrics=container.metrics,
    )


def build_guard(container: Container, *, slots: ListAvailableSlots | None = None) -> SlotGuard:
    """The booking checks: offered locally, live in Google, the database guard."""
    settings = container.settings
    return SlotGuard(
        slots=slots or build_list_slots(container),
        conflicts=ConflictLog(writers=container.writers, metrics=container.metrics),
        readers=container.readers,
        writers=container.writers,
        gateways=container.gateways,
        tokens=container.tokens,
        policy=calendar_policy(settings),
        default_timezone=settings.default_timezone,
        live_check_fallback=timedelta(seconds=settings.live_check_fallback_seconds),
        live_check_fresh=timedelta(seconds=settings.live_check_fresh_seconds),
        live_check_timeout=timedelta(seconds=settings.live_check_timeout_seconds),
        metrics=container.metrics,
    )


def build_waitlist_matching(container: Container) -> MatchWaitlist:
    settings = container.settings
    return MatchWaitlist(
        guard=build_guard(container),
        readers=container.readers,
        writers=container.writers,
        clock=container.clock,
        tokens=ManageTokens(settings.resolved_secret_key()),
        mail=container.messages.mail,
        hold=timedelta(minutes=settings.waitlist_offer_minutes),
    )


def build_web_services(container: Container) -> WebServices:
    from balance_booking.web.deps import WebServices  # noqa: PLC0415 - see the imports note
    from balance_booking.web.edge import EdgeOptions  # noqa: PLC0415 - same note
    from balance_booking.web.slots_cache import RenderedSlots  # noqa: PLC0415 - same note

    settings = container.settings
    zone = settings.default_timezone
    policy = calendar_policy(settings)
    c = container
    status = GetIntegrationStatus(
        uow_factory=c.readers,
        clock=c.clock,
        enabled_by_default=settings.gcal_integration_enabled,
        sync_interval=timedelta(seconds=settings.sync_interval_seconds),
    )
    # One coalescer per web process: a burst of pushes costs at most two syncs here.
    push_syncs = SyncCoalescer(build_sync(c).execute)
    list_slots = build_list_slots(c)
    guard = build_guard(c, slots=list_slots)
    manage_tokens = ManageTokens(settings.resolved_secret_key())
    return WebServices(
        book=BookAppointment(
            guard=guard,
            readers=c.readers,
            writers=c.writers,
            clock=c.clock,
            hold=timedelta(minutes=settings.hold_minutes),
            manage_tokens=manage_tokens,
            metrics=c.metrics,
            messages=c.messages,
            max_active_per_client=settings.max_active_bookings_per_client,
            consent=ConsentPolicy(settings.privacy_policy_url),
        ),
        public_writes=build_public_write_limit(c),
        edge=EdgeOptions(
            public_base_url=settings.public_base_url,
            form_targets=(origin_of(settings.google_auth_url),),
            hsts=settings.public_base_url.startswith("https://"),
            docs=settings.env != "prod",
            metrics_token=None
            if settings.metrics_token is None
            else settings.metrics_token.get_secret_value() or None,
        ),
        confirm_appointment=ConfirmAppointment(
            guard=guard, readers=c.readers, writers=c.writers, clock=c.clock, messages=c.messages
        ),
        cancel_appointment=CancelAppointment(
            writers=c.writers, clock=c.clock, manage_tokens=manage_tokens, messages=c.messages
        ),
        reschedule_appointment=RescheduleAppointment(
            guard=guard,
            readers=c.readers,
            writers=c.writers,
            clock=c.clock,
            messages=c.messages,
            manage_tokens=manage_tokens,
        ),
        book_for_client=BookForClient(
            guard=guard,
            readers=c.readers,
            writers=c.writers,
            clock=c.clock,
            messages=c.messages,
            manage_tokens=manage_tokens,
        ),
        cancel_series=CancelSeries(writers=c.writers, clock=c.clock, messages=c.messages),
        get_appointment=GetAppointment(readers=c.readers, manage_tokens=manage_tokens),
        list_appointments=ListAppointments(readers=c.readers),
        join_waitlist=JoinWaitlist(
            writers=c.writers,
            clock=c.clock,
            consent=ConsentPolicy(settings.privacy_policy_url),
        ),
        privacy_policy_url=settings.privacy_policy_url,
        export_client=ExportClientData(writers=c.writers),
        erase_client=EraseClientData(
            writers=c.writers,
            clock=c.clock,
            messages=c.messages,
            forget_erased=lambda: forget_deleted(c.engine),
        ),
        list_audit=ListAuditLog(c.readers),
        list_waitlist=ListWaitlistWithOffers(readers=c.readers),
        remove_waitlist_entry=RemoveWaitlistEntry(writers=c.writers),
        get_offer=GetOffer(readers=c.readers, tokens=manage_tokens),
        accept_offer=AcceptOffer(
            guard=guard,
            readers=c.readers,
            writers=c.writers,
            clock=c.clock,
            messages=c.messages,
            tokens=manage_tokens,
            hold=timedelta(minutes=settings.hold_minutes),
        ),
        decline_offer=DeclineOffer(
            readers=c.readers, writers=c.writers, clock=c.clock, tokens=manage_tokens
        ),
        track_event=TrackEvent(writers=c.writers, clock=c.clock),
        sync=build_sync(c),
        ensure_push=build_ensure_push(c),
        handle_push=HandlePushNotification(
            readers=c.readers,
            writers=c.writers,
            clock=c.clock,
            metrics=c.metrics,
            syncs=push_syncs,
            enabled_by_default=settings.gcal_integration_enabled,
        ),
        push_syncs=push_syncs,
        list_busy=ListBusyBlocks(uow_factory=c.readers),
        email_status=GetEmailStatus(
            readers=c.readers,
            enabled=settings.smtp_url is not None,
            practitioner_notices=settings.practitioner_email is not None,
            reminders=tuple(lead_label(lead) for lead in settings.reminder_leads()),
        ),
        calendar_files=IcsFiles(),
        list_parked=ListParkedMessages(readers=c.readers),
        retry_parked=RetryParkedMessage(writers=c.writers, clock=c.clock),
        integration_status=status,
        calendar_warning=GetCalendarWarning(
            uow_factory=c.readers, enabled_by_default=settings.gcal_integration_enabled
        ),
        start_connection=StartGoogleConnection(
            uow_factory=c.writers, oauth=c.oauth, cipher=c.cipher, clock=c.clock
        ),
        complete_connection=CompleteGoogleConnection(
            uow_factory=c.writers,
            oauth=c.oauth,
            gateways=c.gateways,
            cipher=c.cipher,
            clock=c.clock,
            metrics=c.metrics,
        ),
        disconnect=DisconnectGoogleCalendar(
            uow_factory=c.writers,
            oauth=c.oauth,
            gateways=c.gateways,
            tokens=c.tokens,
            cipher=c.cipher,
            clock=c.clock,
            status=status,
        ),
        set_integration_enabled=SetIntegrationEnabled(
            uow_factory=c.writers, clock=c.clock, status=status
        ),
        blocking_calendars=BlockingCalendars(
            readers=c.readers,
            writers=c.writers,
            gateways=c.gateways,
            tokens=c.tokens,
            clock=c.clock,
        ),
        clock=container.clock,
        list_slots=list_slots,
        explain_availability=ExplainAvailability(
            uow_factory=container.readers,
            clock=container.clock,
            policy=policy,
            default_timezone=zone,
        ),
        rendered_slots=RenderedSlots(
            ttl_seconds=settings.cache_ttl_seconds, metrics=container.metrics
        ),
        list_public_services=ListPublicServices(uow_factory=container.readers),
        owner_timezone=GetOwnerTimezone(
            uow_factory=container.readers, default_timezone=zone, versions=container.versions
        ),
        get_schedule=GetSchedule(uow_factory=container.readers, default_timezone=zone),
        replace_schedule=ReplaceSchedule(uow_factory=container.writers),
        list_services=ListServices(uow_factory=container.readers),
        create_service=CreateService(uow_factory=container.writers),
        update_service=UpdateService(uow_factory=container.writers),
        delete_service=DeleteService(uow_factory=container.writers),
        authenticate_token=AuthenticateAdminToken(
            uow_factory=container.readers, writers=container.writers, clock=container.clock
        ),
        list_tokens=ListAdminTokens(uow_factory=container.readers),
        revoke_token=RevokeAdminToken(uow_factory=container.writers),
        database_ready=lambda: database_ready(container.engine),
        admin_auth=build_admin_auth(container),
    )


def build_admin_auth(container: Container) -> AdminAuthServices:
    """Admin sign-in: argon2id passwords, 12-hour sessions, Secure cookies behind https."""
    from balance_booking.web.auth import AdminAuthServices  # noqa: PLC0415 - see the imports note

    hasher = Argon2PasswordHasher()
    return AdminAuthServices(
        login=Login(
            uow_factory=container.writers,
            hasher=hasher,
            clock=container.clock,
            session_ttl=DEFAULT_SESSION_TTL,
        ),
        logout=Logout(uow_factory=container.writers),
        authenticate_session=AuthenticateSession(
            uow_factory=container.readers, writer_factory=container.writers, clock=container.clock
        ),
        authenticate_token=AuthenticateAdminToken(
            uow_factory=container.readers, writers=container.writers, clock=container.clock
        ),
        session_ttl=DEFAULT_SESSION_TTL,
        cookie_secure=container.settings.public_base_url.lower().startswith("https://"),
    )


def build_app(container: Container) -> FastAPI:
    from balance_booking.web.app import create_app  # noqa: PLC0415 - see the imports note

    return create_app(build_web_services(container))


def app_from_environment() -> FastAPI:
    """Uvicorn factory for multi-process serving: each process builds its own container."""
    limit_malloc_arenas()
    settings = Settings()
    # Worker processes are fresh interpreters: the CLI's logging set-up did not reach them.
    configure_logging(settings.log_level)
    app = build_app(build_container(settings))
    freeze_startup_heap()
    return app


# glibc's mallopt parameter for the number of malloc arenas (malloc.h).
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Let the threads of a served process share two malloc arenas instead of one each.

    glibc gives threads that allocate at once their own arenas (up to eight per core), and the
    memory each arena keeps after a burst stays in the process: the booking bench's server
    peaked 8 MiB higher with them (docs/benchmarks.md), against the 150 MB web budget. The
    classic `MALLOC_ARENA_MAX=2`, set from inside (it must happen before the threads start);
    an operator's own `MALLOC_ARENA_MAX` wins, and elsewhere than glibc nothing is done.
    """
    if sys.platform != "linux" or "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library symbols to call
        return
    mallopt(_M_ARENA_MAX, arenas)


def freeze_startup_heap() -> None:
    """Keep what start-up built (modules, the app, the container) out of the collector's way.

    The cyclic garbage collector's full passes walk every tracked object; a served process
    holds a few hundred thousand from start-up that live as long as it does, and a full pass
    over them stalled requests for tens of milliseconds in the middle of a burst
    (docs/benchmarks.md). `gc.freeze()` moves them to a generation the collector ignores; what
    requests allocate is collected as before. For a serving process only, once, after the app
    is built (a test suite building many apps must not freeze their garbage).
    """
    gc.collect()
    gc.freeze()


def build_sync(container: Container) -> SyncCalendarBusyTimes:
    return SyncCalendarBusyTimes(
        readers=container.readers,
        writers=container.writers,
        gateways=container.gateways,
        tokens=container.tokens,
        clock=container.clock,
        metrics=container.metrics,
        enabled_by_default=container.settings.gcal_integration_enabled,
        reconcile=ReconcileExportedEvents(
            readers=container.readers,
            writers=container.writers,
            drafts=build_event_drafts(container),
            clock=container.clock,
            metrics=container.metrics,
            hold=build_write_hold(container),
        ),
    )


def origin_of(url: str) -> str:
    """`https://accounts.google.com/o/oauth2/v2/auth` -> `https://accounts.google.com`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def build_public_write_limit(container: Container) -> PublicWriteLimit | None:
    """PUBLIC_WRITE_LIMIT per client address, or None when the setting is empty."""
    rate = container.settings.write_limit()
    if rate is None:
        return None
    count, per = rate
    return PublicWriteLimit(
        writers=container.writers,
        clock=container.clock,
        metrics=container.metrics,
        count=count,
        per=per,
    )


def build_write_hold(container: Container) -> GoogleWriteHold:
    return GoogleWriteHold(
        writers=container.writers, clock=container.clock, metrics=container.metrics
    )


def build_event_drafts(container: Container) -> EventDrafts:
    return EventDrafts(
        public_base_url=container.settings.public_base_url,
        default_timezone=container.settings.default_timezone,
    )


def build_outbox_handlers(container: Container) -> OutboxHandlers:
    """Every kind of outbox message and who delivers it."""
    c = container
    create_event = CreateCalendarEventForAppointment(
        readers=c.readers,
        writers=c.writers,
        gateways=c.gateways,
        tokens=c.tokens,
        drafts=build_event_drafts(c),
        clock=c.clock,
        metrics=c.metrics,
    )
    return OutboxHandlers(
        # Each batch that wrote to Google re-syncs busy time.
        google_calendar=GoogleCalendarMessages(
            create_event=create_event,
            move_event=MoveCalendarEventForAppointment(
                readers=c.readers,
                writers=c.writers,
                gateways=c.gateways,
                tokens=c.tokens,
                drafts=build_event_drafts(c),
                clock=c.clock,
                metrics=c.metrics,
                create_event=create_event,
            ),
            delete_event=DeleteCalendarEventForAppointment(
                readers=c.readers,
                writers=c.writers,
                gateways=c.gateways,
                tokens=c.tokens,
                clock=c.clock,
                metrics=c.metrics,
            ),
            resync=build_sync(c).execute,
            enabled_by_default=c.settings.gcal_integration_enabled,
            hold=build_write_hold(c),
        ),
        email=build_email_messages(c),
    )


def build_email_messages(container: Container) -> EmailMessages | None:
    """The email kind of the outbox, or None while SMTP_URL is unset (e-mail off)."""
    settings = container.settings
    if settings.smtp_url is None:
        return None
    # Imported only when e-mail is on: rendering needs Jinja2 and Babel, which a worker without
    # e-mail need not carry (its memory budget is 120 MB).
    from balance_booking.adapters.mail.compose import MailComposer  # noqa: PLC0415
    from balance_booking.adapters.mail.smtp import SmtpMailer  # noqa: PLC0415

    composer = MailComposer(settings.mail_from, calendar_files=IcsFiles(), clock=container.clock)
    return EmailMessages(
        readers=container.readers,
        writers=container.writers,
        forget_erased=lambda: forget_deleted(container.engine),
        mailer=SmtpMailer(settings.smtp_url.get_secret_value(), composer),
        links=MailLinks(
            public_base_url=settings.public_base_url,
            manage_tokens=ManageTokens(settings.resolved_secret_key()),
        ),
        domain=mail_domain(settings.mail_from),
        practitioner_email=settings.practitioner_email,
        default_timezone=settings.default_timezone,
        clock=container.clock,
    )


def build_outbox_dispatcher(
    container: Container, *, backoff: Backoff | None = None
) -> OutboxDispatcher:
    """The outbox, every kind: Google Calendar writes (and, next, e-mail)."""
    c = container
    return OutboxDispatcher(
        readers=c.readers,
        writers=c.writers,
        handlers=build_outbox_handlers(c).by_kind(),
        clock=c.clock,
        metrics=c.metrics,
        backoff=backoff,
    )


def build_ensure_push(container: Container) -> EnsurePushChannel:
    """Push is on when BALANCE_PUBLIC_BASE_URL can receive it (https, or loopback http)."""
    return EnsurePushChannel(
        readers=container.readers,
        writers=container.writers,
        gateways=container.gateways,
        tokens=container.tokens,
        clock=container.clock,
        metrics=container.metrics,
        address=push_address(container.settings.public_base_url, WEBHOOK_PATH),
        enabled_by_default=container.settings.gcal_integration_enabled,
    )


def build_worker(container: Container) -> WorkerLoop:
    interval = timedelta(seconds=container.settings.sync_interval_seconds)
    poll = PollBusyTimes(
        sync=build_sync(container),
        readers=container.readers,
        clock=container.clock,
        min_age=interval * FRESH_ENOUGH,
    )
    jobs = schedule(
        poll=poll,
        ensure_push=build_ensure_push(container),
        expire_holds=ExpireHolds(
            writers=container.writers, clock=container.clock, messages=container.messages
        ),
        dispatch_outbox=build_outbox_dispatcher(container),
        prune_edge_data=PruneEdgeData(writers=container.writers, clock=container.clock),
        apply_retention=build_retention(container),
        match_waitlist=build_waitlist_matching(container),
        sync_interval=interval,
    )
    return WorkerLoop(jobs, lock=DatabaseJobLock(container.engine))


def build_retention(container: Container) -> ApplyRetention:
    return ApplyRetention(
        writers=container.writers,
        clock=container.clock,
        retention=timedelta(days=container.settings.retention_days),
        forget_erased=lambda: forget_deleted(container.engine),
    )


def rotate_keys(container: Container) -> RotationReport:
    return RotateTokenKeys(
        uow_factory=container.writers, cipher=container.cipher, clock=container.clock
    ).execute()


def create_admin_token(
    container: Container, *, name: str, lifetime: timedelta | None = DEFAULT_TOKEN_LIFETIME
) -> str:
    return (
        CreateAdminToken(uow_factory=container.writers, clock=container.clock)
        .execute(name=name, lifetime=lifetime)
        .secret
    )


def admin_token_works(container: Container, secret: str) -> bool:
    """Whether `secret` is a live (known, unexpired) admin token."""
    check = AuthenticateAdminToken(
        uow_factory=container.readers, writers=container.writers, clock=container.clock
    )
    return check.execute(secret) is not None


def create_admin(container: Container, *, email: str, password: str) -> AdminUser:
    return CreateAdmin(
        uow_factory=container.writers, hasher=Argon2PasswordHasher(), clock=container.clock
    ).execute(email=email, password=password)
