"""Push: the channel Google notifies us on, and each notification it sends (verified)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol
from urllib.parse import urlsplit

from balance_booking.application.connect import sha256_hex
from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    GoogleRequestError,
    GoogleUnavailableError,
    InvalidRequestError,
    NotFoundError,
    UnauthorizedError,
)
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarGateway,
    CalendarGatewayFactory,
    Clock,
    IntegrationRecord,
    Metrics,
    UnitOfWorkFactory,
)
from balance_booking.domain.calendar_account import IntegrationStatus

_log = logging.getLogger(__name__)

# Google's documented default lifetime; it clamps longer requests to an undocumented limit.
CHANNEL_TTL = timedelta(days=7)
# A channel is replaced once it has less than this left, so an hourly job has 24 chances.
RENEW_BEFORE = timedelta(hours=24)


def push_address(public_base_url: str, path: str) -> str | None:
    """Where Google should POST, or None when push is off.

    Google only delivers to https; the emulator also delivers to plain http on a loopback host.
    Anything else cannot receive pushes, and polling alone keeps the mirror fresh.
    """
    parts = urlsplit(public_base_url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return public_base_url.rstrip("/") + path
    if parts.scheme == "http" and _is_loopback(host):
        return public_base_url.rstrip("/") + path
    return None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _integration_enabled(record: IntegrationRecord, *, default: bool) -> bool:
    return default if record.enabled is None else record.enabled


def _channel_live(record: IntegrationRecord, *, now: datetime) -> bool:
    return (
        record.status == IntegrationStatus.CONNECTED
        and record.push_channel_id is not None
        and record.push_resource_id is not None
        and record.push_token_hash is not None
        and record.push_expires_at is not None
        and record.push_expires_at > now
    )


ChannelOutcomeKind = Literal["off", "not_connected", "kept", "created", "renewed", "failed"]


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    """What EnsurePushChannel did."""

    kind: ChannelOutcomeKind
    expires_at: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EnsurePushChannel:
    """Keep one live events.watch channel: open it when missing, replace it before it expires."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    gateways: CalendarGatewayFactory
    tokens: AccessTokenSource
    clock: Clock
    metrics: Metrics
    address: str | None
    enabled_by_default: bool
    ttl: timedelta = CHANNEL_TTL
    renew_before: timedelta = RENEW_BEFORE

    def execute(self, *, renew: bool = False) -> ChannelOutcome:
        """`renew` replaces even a healthy channel (after a reconnect, possibly as another
        account, the old channel may watch the wrong calendar)."""
        if self.address is None:
            return ChannelOutcome("off")
        now = self.clock.now()
        with self.readers() as uow:
            seen = uow.integration.get()
        if (
            not _integration_enabled(seen, default=self.enabled_by_default)
            or seen.status != IntegrationStatus.CONNECTED
        ):
            return ChannelOutcome("not_connected")
        expires_at = seen.push_expires_at
        healthy = (
            _channel_live(seen, now=now) and expires_at and expires_at - now > self.renew_before
        )
        if healthy and not renew:
            return ChannelOutcome("kept", expires_at=expires_at)
        gateway = self.gateways(self.tokens)
        token = secrets.token_urlsafe(32)  # 256 bits; Google echoes it in X-Goog-Channel-Token
        try:
            channel = gateway.watch_events(
                channel_id=uuid.uuid4().hex,
                address=self.address,
                token=token,
                ttl_seconds=int(self.ttl.total_seconds()),
            )
        except (GoogleRequestError, GoogleUnavailableError, AccessRevokedError) as exc:
            # Polling still runs; the hourly job tries again.
            self.metrics.increment("push_channels", {"result": "failed"})
            _log.warning("push_channel_failed", extra={"error": str(exc)[:500]})
            return ChannelOutcome("failed", detail=str(exc)[:500])
        old = (
            (seen.push_channel_id, seen.push_resource_id)
            if seen.push_channel_id and seen.push_resource_id
            else None
        )
        with self.writers() as uow:
            latest = uow.integration.get_for_update()
            # Compare-and-swap: if another process replaced the channel (or the calendar was
            # disconnected) while we talked to Google, ours is surplus and is stopped below.
            won = (
                latest.status == IntegrationStatus.CONNECTED
                and latest.push_channel_id == seen.push_channel_id
            )
            if won:
                latest.push_channel_id = channel.channel_id
                latest.push_resource_id = channel.resource_id
                latest.push_token_hash = sha256_hex(token)
                latest.push_expires_at = channel.expires_at
                latest.push_last_message_number = 0
                uow.integration.save(latest, now=self.clock.now())
                uow.commit()
        if not won:
            _stop_quietly(gateway, channel.channel_id, channel.resource_id)
            if latest.status != IntegrationStatus.CONNECTED:
                return ChannelOutcome("not_connected")
            return ChannelOutcome("kept", expires_at=latest.push_expires_at)
        if old is not None:
            # The successor is stored first, so no change goes unannounced in between.
            _stop_quietly(gateway, *old)
        kind: ChannelOutcomeKind = "renewed" if old is not None else "created"
        self.metrics.increment("push_channels", {"result": kind})
        _log.info(
            "push_channel_opened",
            extra={"kind": kind, "expires_at": channel.expires_at.isoformat()},
        )
        return ChannelOutcome(kind, expires_at=channel.expires_at)


def _stop_quietly(gateway: CalendarGateway, channel_id: str, resource_id: str) -> None:
    try:
        gateway.stop_channel(channel_id=channel_id, resource_id=resource_id)
    except ApplicationError as exc:
        # An unstopped channel only lives until its expiry; its pushes get 404 from us meanwhile.
        _log.warning("push_channel_stop_failed", extra={"error": str(exc)[:500]})


@dataclass(frozen=True, slots=True)
class PushNotice:
    """The X-Goog-* headers of one push delivery, as received (any of them may be missing)."""

    channel_id: str | None
    resource_id: str | None
    token: str | None
    resource_state: str | None
    message_number: str | None


PushAckResult = Literal["sync_scheduled", "ignored"]


@dataclass(frozen=True, slots=True)
class PushAck:
    """The answer to a verified notification."""

    result: PushAckResult
    reason: str | None = None


class PushRejectedError(UnauthorizedError):
    """The notification names our channel but not its resource id or token."""


class SyncRequests(Protocol):
    """Something that runs a busy-time sync soon without blocking the caller."""

    def request(self) -> bool: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class HandlePushNotification:
    """Verify a Google push (channel, resource, token, message number) and schedule one sync."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    metrics: Metrics
    syncs: SyncRequests
    enabled_by_default: bool

    def execute(self, notice: PushNotice) -> PushAck:
        # Verification reads only: a flood of forged pushes never takes the write lock.
        with self.readers() as uow:
            record = uow.integration.get()
        channel_id = notice.channel_id
        if (
            not channel_id
            or channel_id != record.push_channel_id
            or not _channel_live(record, now=self.clock.now())
        ):
            self._count("unknown_channel")
            raise NotFoundError("No live push channel has this id.")
        token_ok = bool(notice.token) and _same(
            sha256_hex(notice.token or ""), record.push_token_hash
        )
        if not (_same(notice.resource_id, record.push_resource_id) and token_ok):
            self._count("rejected")
            _log.warning("push_rejected", extra={"channel_id": channel_id})
            raise PushRejectedError("The push does not carry this channel's resource id and token.")
        if notice.resource_state != "exists":
            # `sync` only confirms a new channel; Calendar sends nothing else but `exists`.
            return self._ignored("sync_message" if notice.resource_state == "sync" else "no_change")
        number = _message_number(notice.message_number)
        if not _integration_enabled(record, default=self.enabled_by_default):
            return self._ignored("switched_off")
        if number > (record.push_last_message_number or 0) + MAX_MESSAGE_JUMP:
            # Google numbers a channel's messages 1, 2, 3...: a leap this far would, if stored,
            # make every later genuine message look stale and freeze the channel.
            _log.warning("push_message_number_leap", extra={"channel_id": channel_id})
            return self._ignored("implausible_message_number")
        with self.writers() as uow:
            advanced = uow.integration.advance_push_message(channel_id=channel_id, number=number)
            uow.commit()
        if not advanced:
            # A replay, an out-of-order older message, or a channel replaced in the meantime.
            return self._ignored("stale_message_number")
        self.syncs.request()
        self._count("sync_scheduled")
        return PushAck("sync_scheduled")

    def _ignored(self, reason: str) -> PushAck:
        self._count("ignored")
        return PushAck("ignored", reason)

    def _count(self, result: str) -> None:
        self.metrics.increment("push_notifications", {"result": result})


def _same(given: str | None, stored: str | None) -> bool:
    """Constant-time equality of two strings; a missing side never matches."""
    if given is None or stored is None:
        return False
    return hmac.compare_digest(given.encode(), stored.encode())


# Message numbers are stored as a signed 64-bit integer (BIGINT / SQLite INTEGER); Google's stay
# far below. A larger one is malformed, not a reason for the database to fail.
MAX_MESSAGE_NUMBER = 2**63 - 1
# How far ahead of the last seen number a message may be (notifications lost on the way included).
MAX_MESSAGE_JUMP = 1_000_000


def _message_number(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        number = 0
    if not 0 < number <= MAX_MESSAGE_NUMBER:
        raise InvalidRequestError(
            "X-Goog-Message-Number must be a positive integer.", field="X-Goog-Message-Number"
        )
    return number
