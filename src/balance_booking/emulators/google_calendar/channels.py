"""events.watch and channels.stop: channel bookkeeping (delivery lives in push.py)."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.errors import GoogleApiError, invalid_body
from balance_booking.emulators.google_calendar.events import EventsService
from balance_booking.emulators.google_calendar.models import Channel
from balance_booking.emulators.google_calendar.oauth_service import Principal
from balance_booking.emulators.google_calendar.push import PushNotifier
from balance_booking.emulators.google_calendar.store import Store
from balance_booking.emulators.google_calendar.timefmt import to_epoch_ms

MAX_CHANNEL_ID = 64
MAX_CHANNEL_TOKEN = 256


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_allowed(address: str) -> bool:
    """Google requires https; the emulator also lets plain http reach this machine only."""
    parts = urlsplit(address)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


def _required(name: str) -> GoogleApiError:
    return GoogleApiError(400, "required", "Required", location=name, location_type="parameter")


class ChannelsService:
    def __init__(self, *, store: Store, config: EmulatorConfig, notifier: PushNotifier) -> None:
        self._store = store
        self._config = config
        self._notifier = notifier

    def watch(
        self, *, principal: Principal, calendar_id: str, body: dict[str, Any], base_url: str
    ) -> dict[str, Any]:
        channel_id = body.get("id")
        if not channel_id or not isinstance(channel_id, str):
            raise _required("id")
        if len(channel_id) > MAX_CHANNEL_ID:
            raise invalid_body(f"Channel id must be at most {MAX_CHANNEL_ID} characters.")
        channel_type = body.get("type")
        if not channel_type:
            raise _required("type")
        if channel_type not in {"web_hook", "webhook"}:
            raise invalid_body(f"Unknown channel type: {channel_type}")
        address = body.get("address")
        if not address or not isinstance(address, str):
            raise _required("address")
        if not address_allowed(address):
            raise GoogleApiError(
                400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}"
            )
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > MAX_CHANNEL_TOKEN):
            raise invalid_body(f"Channel token must be at most {MAX_CHANNEL_TOKEN} characters.")
        now = self._store.clock.now()
        expiration_ms = self._expiration(body, now_ms=to_epoch_ms(now))
        with self._store.write() as state:
            calendar = EventsService.resolve_calendar(state, principal.email, calendar_id)
            existing = state.channels.get(channel_id)
            if (
                existing is not None
                and not existing.stopped
                and existing.expiration_ms > to_epoch_ms(now)
            ):
                raise GoogleApiError(400, "channelIdNotUnique", "Channel id not unique")
            channel = Channel(
                id=channel_id,
                resource_id=secrets.token_urlsafe(20)[:27],
                resource_uri=(
                    f"{base_url.rstrip('/')}/calendar/v3/calendars/"
                    f"{quote(calendar_id, safe='')}/events?alt=json"
                ),
                calendar_id=calendar.id,
                address=address,
                token=token,
                expiration_ms=expiration_ms,
                email=principal.email,
                client_id=principal.client_id,
            )
            state.channels[channel_id] = channel
            self._notifier.channel_created(channel)
        response: dict[str, Any] = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": str(channel.expiration_ms),
        }
        if token is not None:
            response["token"] = token
        return response

    def _expiration(self, body: dict[str, Any], *, now_ms: int) -> int:
        cap = now_ms + self._config.channel_max_ttl_seconds * 1000
        requested: int | None = None
        params = body.get("params") or {}
        try:
            if body.get("expiration") is not None:
                requested = int(body["expiration"])
            elif isinstance(params, dict) and params.get("ttl") is not None:
                requested = now_ms + int(
                    timedelta(seconds=int(params["ttl"])).total_seconds() * 1000
                )
        except (TypeError, ValueError) as exc:
            raise invalid_body("Invalid value for: expiration") from exc
        if requested is None:
            return min(cap, now_ms + self._config.channel_default_ttl_seconds * 1000)
        if requested <= now_ms:
            raise invalid_body("Invalid value for: expiration")
        return min(cap, requested)

    def stop(self, *, principal: Principal, body: dict[str, Any]) -> None:
        channel_id = body.get("id")
        resource_id = body.get("resourceId")
        if not channel_id:
            raise _required("id")
        if not resource_id:
            raise _required("resourceId")
        with self._store.write() as state:
            channel = state.channels.get(str(channel_id))
            # Only the user and client that created a channel may stop it.
            if (
                channel is None
                or channel.stopped
                or channel.resource_id != resource_id
                or channel.email != principal.email
                or channel.client_id != principal.client_id
            ):
                raise GoogleApiError(404, "notFound", f"Channel '{channel_id}' not found")
            channel.stopped = True
