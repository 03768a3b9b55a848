"""The use cases wired with fakes, the way bootstrap.py wires them with adapters.

Every use-case module of the application layer is imported HERE and only here: the tests import
the names they need from this module, so a file moved or split in application/ is one edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from uuid import UUID
from zoneinfo import ZoneInfo

from balance_booking.application.admin import (
    AuthenticateAdminToken,
    CreateAdminToken,
    CreateService,
    DeleteService,
    GetSchedule,
    ListServices,
    ReplaceSchedule,
    UpdateService,
    hash_api_token,
)
from balance_booking.application.admin_auth import (
    AuthenticateSession,
    CreateAdmin,
    Login,
    LoginPolicy,
    Logout,
    hash_session_id,
)
from balance_booking.application.audit import AuditTrail, ListAuditLog, auditing, identify
from balance_booking.application.availability import (
    MAX_RANGE,
    CalendarPolicy,
    GetOwnerTimezone,
    ListAvailableSlots,
    ListPublicServices,
    SlotsResult,
)
from balance_booking.application.booking import (
    BookAppointment,
    Booked,
    CancelAppointment,
    ConfirmAppointment,
    ExpireHolds,
    GetAppointment,
    IdempotencyMismatchError,
    ListAppointments,
    ManageTokens,
    request_fingerprint,
)
from balance_booking.application.busy_view import ListBusyBlocks
from balance_booking.application.connect import (
    STATE_TTL,
    CompleteGoogleConnection,
    ConnectionOutcome,
    StartGoogleConnection,
    pkce_challenge,
    sha256_hex,
)
from balance_booking.application.export import (
    MAX_REPLACEMENTS,
    CreateCalendarEventForAppointment,
    DeleteCalendarEventForAppointment,
    EventDrafts,
    GoogleCalendarMessages,
    GoogleWriteHold,
    MoveCalendarEventForAppointment,
    event_id_for,
    is_ours,
    replacement_id,
)
from balance_booking.application.integration import (
    DisconnectGoogleCalendar,
    GetIntegrationStatus,
    SetIntegrationEnabled,
)
from balance_booking.application.messages import MailPolicy, Messages, event_of
from balance_booking.application.offers import AcceptOffer, MatchWaitlist
from balance_booking.application.outbox import Backoff, OutboxDispatcher
from balance_booking.application.ports import (
    CalendarState,
    IntegrationRecord,
    OutboxKind,
    OutboxMessage,
)
from balance_booking.application.privacy import (
    ApplyRetention,
    ConsentPolicy,
    EraseClientData,
    ExportClientData,
)
from balance_booking.application.push import (
    MAX_MESSAGE_NUMBER,
    RENEW_BEFORE,
    EnsurePushChannel,
    HandlePushNotification,
    PushNotice,
    PushRejectedError,
    push_address,
)
from balance_booking.application.reconcile import ReconcileExportedEvents, ReconcileSummary
from balance_booking.application.self_service import (
    BookForClient,
    CancelSeries,
    RescheduleAppointment,
)
from balance_booking.application.slot_guard import (
    BookingRequest,
    ConflictLog,
    SlotGuard,
    SlotUnavailableError,
    alternatives_window,
)
from balance_booking.application.sync import (
    DEFAULT_HORIZON_DAYS,
    NotConnectedError,
    SyncCalendarBusyTimes,
    SyncFailedError,
    SyncReport,
)
from balance_booking.application.sync_triggers import PollBusyTimes
from balance_booking.application.tokens import GoogleTokens, RotateTokenKeys, StaticTokens
from balance_booking.application.tracking import TRACKING_PLAN, TrackEvent
from balance_booking.application.waitlist import Joined, JoinWaitlist, ListWaitlist
from balance_booking.domain.appointments import Appointment, Client
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.events import DomainEvent
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from tests.fakes.calendar import FakeCalendar, FakeCalendarGatewayFactory
from tests.fakes.clock import FakeClock, FakeStopwatch
from tests.fakes.crypto import FakePasswordHasher, FakeTokenCipher
from tests.fakes.oauth import FakeOAuth
from tests.fakes.system import FakeMetrics, FakeSlotsCache, FakeSyncRequests
from tests.fakes.uow import FakeDatabase, FakeDataVersion

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "MAX_MESSAGE_NUMBER",
    "MAX_RANGE",
    "MAX_REPLACEMENTS",
    "RENEW_BEFORE",
    "STATE_TTL",
    "TRACKING_PLAN",
    "ApplyRetention",
    "Appointment",
    "AuditTrail",
    "AuthenticateAdminToken",
    "AuthenticateSession",
    "Booked",
    "BookingRequest",
    "CalendarPolicy",
    "CalendarState",
    "ConnectionOutcome",
    "ConsentPolicy",
    "CreateAdmin",
    "CreateAdminToken",
    "EraseClientData",
    "ExportClientData",
    "GetAppointment",
    "GoogleWriteHold",
    "IdempotencyMismatchError",
    "Joined",
    "ListAuditLog",
    "Login",
    "LoginPolicy",
    "Logout",
    "ManageTokens",
    "NotConnectedError",
    "OutboxDispatcher",
    "PushNotice",
    "PushRejectedError",
    "ReconcileSummary",
    "SlotUnavailableError",
    "SlotsResult",
    "StartGoogleConnection",
    "StaticTokens",
    "SyncFailedError",
    "SyncReport",
    "World",
    "alternatives_window",
    "auditing",
    "event_id_for",
    "event_of",
    "hash_api_token",
    "hash_session_id",
    "identify",
    "is_ours",
    "pkce_challenge",
    "push_address",
    "replacement_id",
    "request_fingerprint",
    "sha256_hex",
]

ZONE = "Europe/Moscow"
PUBLIC_URL = "https://booking.example"
WEBHOOK = PUBLIC_URL + "/api/webhooks/google-calendar"
WEEKDAYS_10_TO_18 = Availability(
    timezone=ZONE, weekly={day: (LocalWindow.parse("10:00", "18:00"),) for day in range(5)}
)
SESSION = Service(
    slug="session",
    title="Сессия",
    duration=timedelta(minutes=50),
    slot_step=timedelta(minutes=60),
)
CLIENT = Client(name="Анна Петрова", email="anna@example.com", phone="+7 900 000-00-00")


def moscow(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in December 2026 (or 30 November for day=30), given in Moscow time (UTC+3)."""
    month = 11 if day == 30 else 12
    local = datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(ZONE))
    return local.astimezone(UTC)


def request(
    start: datetime | None = None,
    *,
    service: str = "session",
    client: Client = CLIENT,
    timezone: str = "Asia/Kolkata",
    comment: str | None = "Первый раз",
) -> BookingRequest:
    return BookingRequest(
        service_slug=service,
        start=start or moscow(1, 12),
        timezone=timezone,
        client=client,
        comment=comment,
    )


@dataclass
class World:
    """Fakes for every port and the use cases over them, with the embedded default settings."""

    clock: FakeClock = field(default_factory=FakeClock)
    hold: timedelta = timedelta(minutes=15)
    live_check_fallback: timedelta = timedelta(seconds=300)
    live_check_fresh: timedelta = timedelta(0)
    live_check_timeout: timedelta = timedelta(seconds=3)
    stale_after: timedelta = timedelta(seconds=2700)
    sync_interval: timedelta = timedelta(seconds=900)
    enabled_by_default: bool = True
    push_url: str | None = WEBHOOK
    max_repairs: int = 25
    mail: MailPolicy = field(default_factory=MailPolicy)  # e-mail off
    privacy_policy_url: str | None = None  # PRIVACY_POLICY_URL

    def __post_init__(self) -> None:
        # Wired as bootstrap wires the writers: admin actions leave an audit entry.
        self.db = FakeDatabase(before_commit=AuditTrail(self.clock))
        self.stopwatch = FakeStopwatch()  # the monotonic clock of the live check's budget
        self.calendar = FakeCalendar(now=self.clock.now, stopwatch=self.stopwatch)
        self.oauth = FakeOAuth(self.clock)
        self.gateways = FakeCalendarGatewayFactory(self.calendar, accepts=self.oauth.access_valid)
        self.cipher = FakeTokenCipher("key-a")
        self.metrics = FakeMetrics()
        self.versions = FakeDataVersion(self.db)
        self.cache = FakeSlotsCache()
        self.syncs = FakeSyncRequests()
        self.hasher = FakePasswordHasher()
        self.manage_tokens = ManageTokens("server-secret")
        self.sleeps: list[float] = []

    # --- state set-up -------------------------------------------------------------------
    def given(self, *services: Service, schedule: Availability | None = WEEKDAYS_10_TO_18) -> World:
        with self.db() as uow:
            for service in services or (SESSION,):
                uow.services.add(service)
            if schedule is not None:
                uow.schedule.save(schedule)
            uow.commit()
        return self

    def connect(self, *, synced: bool = True) -> World:
        """Connected through the real OAuth use cases, then (by default) synced once."""
        url = self.start_connection.execute(session_hash="admin-session")
        state, code = self.oauth.consent(url)
        outcome = self.complete_connection.execute(
            state=state, code=code, error=None, session_hash="admin-session"
        )
        assert outcome.kind == "connected", outcome
        if synced:
            self.sync.execute()
        return self

    def record(self) -> IntegrationRecord:
        with self.db() as uow:
            return uow.integration.get()

    def save_record(self, record: IntegrationRecord) -> None:
        with self.db() as uow:
            uow.integration.save(record, now=self.clock.now())
            uow.commit()

    def appointment(self, appointment_id: UUID) -> Appointment:
        with self.db() as uow:
            found = uow.appointments.get(appointment_id)
        assert found is not None
        return found

    def free_starts(self, day: int, service: str = "session") -> list[datetime]:
        window = Interval(moscow(day, 0), moscow(day, 0) + timedelta(days=1))
        return [
            slot.start
            for slot in self.list_slots.execute(service_slug=service, window=window).slots
        ]

    # --- use cases, wired as bootstrap.py wires them --------------------------------------
    @cached_property
    def policy(self) -> CalendarPolicy:
        return CalendarPolicy(
            enabled_by_default=self.enabled_by_default,
            stale_after=self.stale_after,
            retry_after_seconds=300,
        )

    @cached_property
    def tokens(self) -> GoogleTokens:
        return self.make_tokens()

    def make_tokens(self, **overrides: object) -> GoogleTokens:
        """Another GoogleTokens over the same fakes (another thread or process)."""
        arguments: dict[str, object] = {
            "uow_factory": self.db,
            "oauth": self.oauth,
            "cipher": self.cipher,
            "clock": self.clock,
            "metrics": self.metrics,
            "poll_seconds": 0.001,
            "sleep": self.sleeps.append,
        }
        arguments.update(overrides)
        return GoogleTokens(**arguments)  # type: ignore[arg-type]

    @cached_property
    def guard(self) -> SlotGuard:
        return SlotGuard(
            readers=self.db,
            writers=self.db,
            gateways=self.gateways,
            tokens=self.tokens,
            policy=self.policy,
            default_timezone=ZONE,
            live_check_fallback=self.live_check_fallback,
            live_check_fresh=self.live_check_fresh,
            live_check_timeout=self.live_check_timeout,
            monotonic=self.stopwatch,
            metrics=self.metrics,
            slots=self.list_slots,
            conflicts=ConflictLog(writers=self.db, metrics=self.metrics),
        )

    @cached_property
    def book(self) -> BookAppointment:
        return BookAppointment(
            guard=self.guard,
            readers=self.db,
            writers=self.db,
            clock=self.clock,
            hold=self.hold,
            manage_tokens=self.manage_tokens,
            metrics=self.metrics,
            messages=self.messages,
            consent=ConsentPolicy(self.privacy_policy_url),
        )

    @cached_property
    def export_client(self) -> ExportClientData:
        return ExportClientData(writers=self.db)

    @cached_property
    def erase_client(self) -> EraseClientData:
        return EraseClientData(writers=self.db, clock=self.clock, messages=self.messages)

    def retention(self, days: int = 30) -> ApplyRetention:
        return ApplyRetention(writers=self.db, clock=self.clock, retention=timedelta(days=days))

    @cached_property
    def messages(self) -> Messages:
        """The real registry; e-mail off unless a test passes `mail=MailPolicy(...)`."""
        return Messages(mail=self.mail)

    @cached_property
    def confirm(self) -> ConfirmAppointment:
        return ConfirmAppointment(
            guard=self.guard,
            readers=self.db,
            writers=self.db,
            clock=self.clock,
            messages=self.messages,
        )

    @cached_property
    def cancel(self) -> CancelAppointment:
        return CancelAppointment(
            writers=self.db,
            clock=self.clock,
            manage_tokens=self.manage_tokens,
            messages=self.messages,
        )

    @cached_property
    def reschedule(self) -> RescheduleAppointment:
        return RescheduleAppointment(
            guard=self.guard,
            readers=self.db,
            writers=self.db,
            clock=self.clock,
            messages=self.messages,
            manage_tokens=self.manage_tokens,
        )

    @cached_property
    def book_for_client(self) -> BookForClient:
        return BookForClient(
            guard=self.guard,
            readers=self.db,
            writers=self.db,
            clock=self.clock,
            messages=self.messages,
            manage_tokens=self.manage_tokens,
        )

    @cached_property
    def cancel_series(self) -> CancelSeries:
        return CancelSeries(writers=self.db, clock=self.clock, messages=self.messages)

    @cached_property
    def get_appointment(self) -> GetAppointment:
        return GetAppointment(readers=self.db, manage_tokens=self.manage_tokens)

    @cached_property
    def expire_holds(self) -> ExpireHolds:
        return ExpireHolds(writers=self.db, clock=self.clock, messages=self.messages)

    @cached_property
    def list_appointments(self) -> ListAppointments:
        return ListAppointments(readers=self.db)

    @cached_property
    def join_waitlist(self) -> JoinWaitlist:
        return JoinWaitlist(
            writers=self.db, clock=self.clock, consent=ConsentPolicy(self.privacy_policy_url)
        )

    @cached_property
    def match_waitlist(self) -> MatchWaitlist:
        return MatchWaitlist(
            guard=self.guard,
            readers=self.db,
            writers=self.db,
            clock=self.clock,
            tokens=self.manage_tokens,
        )

    @cached_property
    def accept_offer(self) -> AcceptOffer:
        return AcceptOffer(
            guard=self.guard,
            readers=self.db,
            writers=self.db,
            clock=self.clock,
            messages=self.messages,
            tokens=self.manage_tokens,
            hold=self.hold,
        )

    @cached_property
    def list_waitlist(self) -> ListWaitlist:
        return ListWaitlist(readers=self.db)

    @cached_property
    def track(self) -> TrackEvent:
        return TrackEvent(writers=self.db, clock=self.clock)

    @cached_property
    def list_slots(self) -> ListAvailableSlots:
        return ListAvailableSlots(
            uow_factory=self.db,
            clock=self.clock,
            policy=self.policy,
            default_timezone=ZONE,
            versions=self.versions,
            cache=self.cache,
            metrics=self.metrics,
        )

    @cached_property
    def public_services(self) -> ListPublicServices:
        return ListPublicServices(uow_factory=self.db)

    @cached_property
    def owner_timezone(self) -> GetOwnerTimezone:
        return GetOwnerTimezone(uow_factory=self.db, default_timezone=ZONE, versions=self.versions)

    @cached_property
    def drafts(self) -> EventDrafts:
        return EventDrafts(public_base_url=PUBLIC_URL, default_timezone=ZONE)

    @cached_property
    def reconcile(self) -> ReconcileExportedEvents:
        return ReconcileExportedEvents(
            readers=self.db,
            writers=self.db,
            drafts=self.drafts,
            clock=self.clock,
            metrics=self.metrics,
            max_repairs=self.max_repairs,
            hold=self.write_hold,
        )

    @cached_property
    def write_hold(self) -> GoogleWriteHold:
        return GoogleWriteHold(writers=self.db, clock=self.clock, metrics=self.metrics)

    @cached_property
    def sync(self) -> SyncCalendarBusyTimes:
        return SyncCalendarBusyTimes(
            readers=self.db,
            writers=self.db,
            gateways=self.gateways,
            tokens=self.tokens,
            clock=self.clock,
            metrics=self.metrics,
            enabled_by_default=self.enabled_by_default,
            reconcile=self.reconcile,
        )

    @cached_property
    def poll(self) -> PollBusyTimes:
        return PollBusyTimes(
            sync=self.sync, readers=self.db, clock=self.clock, min_age=self.sync_interval * 0.9
        )

    @cached_property
    def create_event(self) -> CreateCalendarEventForAppointment:
        return CreateCalendarEventForAppointment(
            readers=self.db,
            writers=self.db,
            gateways=self.gateways,
            tokens=self.tokens,
            drafts=self.drafts,
            clock=self.clock,
            metrics=self.metrics,
        )

    @cached_property
    def delete_event(self) -> DeleteCalendarEventForAppointment:
        return DeleteCalendarEventForAppointment(
            readers=self.db,
            writers=self.db,
            gateways=self.gateways,
            tokens=self.tokens,
            clock=self.clock,
            metrics=self.metrics,
        )

    @cached_property
    def move_event(self) -> MoveCalendarEventForAppointment:
        return MoveCalendarEventForAppointment(
            readers=self.db,
            writers=self.db,
            gateways=self.gateways,
            tokens=self.tokens,
            drafts=self.drafts,
            clock=self.clock,
            metrics=self.metrics,
            create_event=self.create_event,
        )

    @cached_property
    def google_messages(self) -> GoogleCalendarMessages:
        return GoogleCalendarMessages(
            create_event=self.create_event,
            delete_event=self.delete_event,
            move_event=self.move_event,
            resync=self.sync.execute,
            enabled_by_default=self.enabled_by_default,
            hold=self.write_hold,
        )

    @cached_property
    def dispatcher(self) -> OutboxDispatcher:
        """The worker's outbox dispatcher over the google_calendar kind (no jitter)."""
        return OutboxDispatcher(
            readers=self.db,
            writers=self.db,
            handlers={OutboxKind.GOOGLE_CALENDAR: self.google_messages},
            clock=self.clock,
            metrics=self.metrics,
            backoff=Backoff(jitter=lambda: 0.0),
        )

    def handlers(self, event: DomainEvent) -> bool:
        """Deliver `event` as the worker would: its outbox messages (the real registry) through
        the google_calendar kind's handler; True when Google was written to."""
        wrote = False
        with self.db() as uow:
            appointment = uow.appointments.get(event.appointment_id)
        if appointment is None:  # an event made up by the test: any appointment will do
            appointment = Appointment.book(
                appointment_id=event.appointment_id,
                service=SESSION,
                start=self.clock.now() + timedelta(days=1),
                client=CLIENT,
                client_timezone=ZONE,
                comment=None,
                now=self.clock.now(),
                hold=self.hold,
            )
        messages = self.messages.for_event(event, appointment, now=self.clock.now())
        calendar = [new for new in messages if new.kind == OutboxKind.GOOGLE_CALENDAR]
        for number, new in enumerate(calendar, start=1):
            message = OutboxMessage(
                message_id=number,
                kind=new.kind,
                topic=new.topic,
                attempts=0,
                appointment_id=new.appointment_id,
                payload=new.payload,
            )
            wrote = self.google_messages.handle(message) or wrote
        return wrote

    @cached_property
    def status(self) -> GetIntegrationStatus:
        return GetIntegrationStatus(
            uow_factory=self.db,
            clock=self.clock,
            enabled_by_default=self.enabled_by_default,
            sync_interval=self.sync_interval,
        )

    @cached_property
    def start_connection(self) -> StartGoogleConnection:
        return StartGoogleConnection(
            uow_factory=self.db, oauth=self.oauth, cipher=self.cipher, clock=self.clock
        )

    @cached_property
    def complete_connection(self) -> CompleteGoogleConnection:
        return CompleteGoogleConnection(
            uow_factory=self.db,
            oauth=self.oauth,
            gateways=self.gateways,
            cipher=self.cipher,
            clock=self.clock,
            metrics=self.metrics,
        )

    @cached_property
    def disconnect(self) -> DisconnectGoogleCalendar:
        return DisconnectGoogleCalendar(
            uow_factory=self.db,
            oauth=self.oauth,
            gateways=self.gateways,
            tokens=self.tokens,
            cipher=self.cipher,
            clock=self.clock,
            status=self.status,
        )

    @cached_property
    def set_enabled(self) -> SetIntegrationEnabled:
        return SetIntegrationEnabled(uow_factory=self.db, clock=self.clock, status=self.status)

    def rotate_keys(self, *keys: str) -> RotateTokenKeys:
        return RotateTokenKeys(uow_factory=self.db, cipher=FakeTokenCipher(*keys), clock=self.clock)

    @cached_property
    def ensure_push(self) -> EnsurePushChannel:
        return EnsurePushChannel(
            readers=self.db,
            writers=self.db,
            gateways=self.gateways,
            tokens=self.tokens,
            clock=self.clock,
            metrics=self.metrics,
            address=self.push_url,
            enabled_by_default=self.enabled_by_default,
        )

    @cached_property
    def handle_push(self) -> HandlePushNotification:
        return HandlePushNotification(
            readers=self.db,
            writers=self.db,
            clock=self.clock,
            metrics=self.metrics,
            syncs=self.syncs,
            enabled_by_default=self.enabled_by_default,
        )

    @cached_property
    def list_busy(self) -> ListBusyBlocks:
        return ListBusyBlocks(uow_factory=self.db)

    @cached_property
    def get_schedule(self) -> GetSchedule:
        return GetSchedule(uow_factory=self.db, default_timezone=ZONE)

    @cached_property
    def replace_schedule(self) -> ReplaceSchedule:
        return ReplaceSchedule(uow_factory=self.db)

    @cached_property
    def list_services(self) -> ListServices:
        return ListServices(uow_factory=self.db)

    @cached_property
    def create_service(self) -> CreateService:
        return CreateService(uow_factory=self.db)

    @cached_property
    def update_service(self) -> UpdateService:
        return UpdateService(uow_factory=self.db)

    @cached_property
    def delete_service(self) -> DeleteService:
        return DeleteService(uow_factory=self.db)

    @cached_property
    def create_token(self) -> CreateAdminToken:
        return CreateAdminToken(uow_factory=self.db, clock=self.clock)

    @cached_property
    def authenticate_token(self) -> AuthenticateAdminToken:
        return AuthenticateAdminToken(uow_factory=self.db, writers=self.db, clock=self.clock)

    @cached_property
    def create_admin(self) -> CreateAdmin:
        return CreateAdmin(uow_factory=self.db, hasher=self.hasher, clock=self.clock)

    @cached_property
    def login(self) -> Login:
        return Login(uow_factory=self.db, hasher=self.hasher, clock=self.clock)

    @cached_property
    def logout(self) -> Logout:
        return Logout(uow_factory=self.db)

    @cached_property
    def authenticate_session(self) -> AuthenticateSession:
        return AuthenticateSession(uow_factory=self.db, writer_factory=self.db, clock=self.clock)
