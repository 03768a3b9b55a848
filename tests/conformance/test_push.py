"""Proves events.watch and channels.stop through google-api-python-client, with a loopback FastAPI
receiver recording what the emulator delivers: the api#channel answer, a body-less `sync`
message numbered 1 first, then one `exists` per change with strictly increasing, non-consecutive
X-Goog-Message-Number and Google's X-Goog-* header set, re-delivery after a 5xx (not after a 4xx),
no deliveries after channels.stop, and refusal of non-https, non-loopback addresses and
over-long ids/tokens (protocol doc 4.1-4.3)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.conformance.harness import (
    SCOPE_FREEBUSY,
    EmulatorControl,
    OAuthClient,
    assert_http_error,
    msk_event,
    serve_emulator,
)
from tests.support.live_server import serve_app

GOOGLE_HEADERS = {
    "x-goog-channel-id",
    "x-goog-message-number",
    "x-goog-resource-id",
    "x-goog-resource-state",
    "x-goog-resource-uri",
}
# Sent when the channel has an expiration (always, here) and a token.
OPTIONAL_HEADERS = {"x-goog-channel-expiration", "x-goog-channel-token"}
WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]  # names lower-cased (HTTP header names are case-insensitive)
    body: bytes
    answered: int

    @property
    def channel_id(self) -> str:
        return self.headers["x-goog-channel-id"]

    @property
    def number(self) -> int:
        return int(self.headers["x-goog-message-number"])

    @property
    def state(self) -> str:
        return self.headers["x-goog-resource-state"]

    def goog_headers(self) -> set[str]:
        """The X-Goog-* header names sent (an unexpected or misspelt one shows up here)."""
        return {name for name in self.headers if name.startswith("x-goog-")}


@dataclass
class PushReceiver:
    """A webhook endpoint that records every delivery and answers with scripted statuses."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    scripted: dict[str, list[int]] = field(default_factory=dict)  # channel id -> next statuses
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            headers = {name.lower(): value for name, value in request.headers.items()}
            channel = headers.get("x-goog-channel-id", "")
            with self.lock:
                statuses = self.scripted.get(channel, [])
                status = statuses.pop(0) if statuses else 200
                self.deliveries.append(Delivery(headers=headers, body=body, answered=status))
            return Response(status_code=status)

        return app

    def of(self, channel_id: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.channel_id == channel_id]

    def wait_for(self, channel_id: str, count: int) -> list[Delivery]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            got = self.of(channel_id)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{channel_id}: wanted {count} deliveries, got {self.of(channel_id)}")


@pytest.fixture(scope="module")
def emulator_base() -> Iterator[str]:
    # Short re-delivery pauses keep the 5xx retry test fast; everything else is the default.
    with serve_emulator(push_retry_delays_seconds=(0.1, 0.2)) as base:
        yield base


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[PushReceiver]:
    receiver = PushReceiver()
    with serve_app(receiver.app()) as base:
        receiver.url = f"{base}/hook"
        yield receiver


@pytest.fixture
def receiver(receiver_server: PushReceiver) -> PushReceiver:
    with receiver_server.lock:
        receiver_server.deliveries.clear()
        receiver_server.scripted.clear()
    return receiver_server


def _watch(calendar: Resource, receiver: PushReceiver, **extra: Any) -> dict[str, Any]:
    body = {"id": str(uuid.uuid4()), "type": "web_hook", "address": receiver.url, **extra}
    result: dict[str, Any] = calendar.events().watch(calendarId="primary", body=body).execute()
    return result


def _insert(calendar: Resource, hour: str = "10:00") -> str:
    body = msk_event("2031-03-04", hour)
    return str(calendar.events().insert(calendarId="primary", body=body).execute()["id"])


def test_watch_answers_a_channel_and_sends_sync_first(
    calendar: Resource, receiver: PushReceiver
) -> None:
    before_ms = int(time.time() * 1000)
    channel = _watch(calendar, receiver, token="tok-123", params={"ttl": "3600"})
    assert channel["kind"] == "api#channel"
    assert channel["resourceId"]
    assert "/calendars/" in channel["resourceUri"]
    assert "/events" in channel["resourceUri"]
    assert channel["token"] == "tok-123"
    assert isinstance(channel["expiration"], str)
    expiration_ms = int(channel["expiration"])
    assert before_ms + 3_590_000 <= expiration_ms <= int(time.time() * 1000) + 3_610_000

    (sync,) = receiver.wait_for(channel["id"], 1)
    assert sync.goog_headers() == GOOGLE_HEADERS | OPTIONAL_HEADERS
    assert sync.state == "sync"
    assert sync.number == 1
    assert sync.headers["x-goog-resource-id"] == channel["resourceId"]
    assert sync.headers["x-goog-resource-uri"] == channel["resourceUri"]
    assert sync.headers["x-goog-channel-token"] == "tok-123"
    expires = parsedate_to_datetime(sync.headers["x-goog-channel-expiration"])
    assert sync.headers["x-goog-channel-expiration"].endswith(" GMT")
    assert abs(expires.timestamp() * 1000 - expiration_ms) < 1000
    assert sync.body == b""
    assert "APIs-Google" in sync.headers["user-agent"]


def test_default_channel_lifetime_is_seven_days_and_no_token_header(
    calendar: Resource, receiver: PushReceiver
) -> None:
    channel = _watch(calendar, receiver)
    expected = datetime.now(UTC) + timedelta(seconds=604_800)
    assert abs(int(channel["expiration"]) / 1000 - expected.timestamp()) < 60
    assert "token" not in channel
    (sync,) = receiver.wait_for(channel["id"], 1)
    assert sync.goog_headers() == GOOGLE_HEADERS | {"x-goog-channel-expiration"}


def test_each_change_sends_exists_with_growing_gapped_numbers(
    calendar: Resource, receiver: PushReceiver
) -> None:
    channel = _watch(calendar, receiver, token="t")
    receiver.wait_for(channel["id"], 1)
    event_id = _insert(calendar)
    receiver.wait_for(channel["id"], 2)
    calendar.events().patch(
        calendarId="primary", eventId=event_id, body={"summary": "changed"}
    ).execute()
    receiver.wait_for(channel["id"], 3)
    calendar.events().delete(calendarId="primary", eventId=event_id).execute()
    deliveries = receiver.wait_for(channel["id"], 4)

    assert [d.state for d in deliveries] == ["sync", "exists", "exists", "exists"]
    numbers = [d.number for d in deliveries]
    assert numbers[0] == 1
    assert all(a < b for a, b in itertools.pairwise(numbers)), numbers
    assert numbers != list(range(1, len(numbers) + 1)), f"consecutive numbers {numbers}"
    for delivery in deliveries[1:]:
        assert delivery.goog_headers() == GOOGLE_HEADERS | OPTIONAL_HEADERS
        assert delivery.headers["x-goog-resource-id"] == channel["resourceId"]
        assert delivery.headers["x-goog-channel-token"] == "t"
        assert delivery.body == b""


def test_stop_ends_deliveries(calendar: Resource, receiver: PushReceiver) -> None:
    stopped = _watch(calendar, receiver)
    receiver.wait_for(stopped["id"], 1)
    result = (
        calendar.channels()
        .stop(body={"id": stopped["id"], "resourceId": stopped["resourceId"]})
        .execute()
    )
    assert result == ""
    witness = _watch(calendar, receiver)
    receiver.wait_for(witness["id"], 1)
    _insert(calendar)
    receiver.wait_for(witness["id"], 2)  # the change has been announced to live channels
    time.sleep(0.3)
    assert [d.state for d in receiver.of(stopped["id"])] == ["sync"]


def test_stop_unknown_channel_is_404(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.channels().stop(body={"id": "no-such-channel", "resourceId": "nope"}).execute()
    assert_http_error(caught.value, status=404, reason="notFound")


def test_5xx_answer_is_redelivered_with_the_same_number(
    calendar: Resource, receiver: PushReceiver
) -> None:
    channel_id = str(uuid.uuid4())
    receiver.scripted[channel_id] = [200, 503, 502]
    body = {"id": channel_id, "type": "web_hook", "address": receiver.url}
    calendar.events().watch(calendarId="primary", body=body).execute()
    receiver.wait_for(channel_id, 1)
    _insert(calendar)
    deliveries = receiver.wait_for(channel_id, 4)
    assert [d.answered for d in deliveries] == [200, 503, 502, 200]
    assert [d.state for d in deliveries] == ["sync", "exists", "exists", "exists"]
    assert len({d.number for d in deliveries[1:]}) == 1


def test_4xx_answer_is_not_redelivered(calendar: Resource, receiver: PushReceiver) -> None:
    channel_id = str(uuid.uuid4())
    receiver.scripted[channel_id] = [200, 404]
    body = {"id": channel_id, "type": "web_hook", "address": receiver.url}
    calendar.events().watch(calendarId="primary", body=body).execute()
    receiver.wait_for(channel_id, 1)
    _insert(calendar)
    receiver.wait_for(channel_id, 2)
    time.sleep(0.5)  # longer than the configured re-delivery pauses (0.1 s + 0.2 s)
    assert [d.answered for d in receiver.of(channel_id)] == [200, 404]


@pytest.mark.parametrize(
    ("override", "reasons"),
    [
        (
            {"address": "http://example.com/hook"},
            {"push.webhookUrlNotHttps", "invalid", "badRequest"},
        ),
        ({"id": "c" * 65}, {"invalid", "badRequest"}),
        ({"token": "t" * 257}, {"invalid", "badRequest"}),
        ({"type": "carrier_pigeon"}, {"invalid", "badRequest"}),
    ],
    ids=["non-https", "long-id", "long-token", "bad-type"],
)
def test_invalid_channels_are_refused(
    calendar: Resource, receiver: PushReceiver, override: dict[str, str], reasons: set[str]
) -> None:
    body = {"id": str(uuid.uuid4()), "type": "web_hook", "address": receiver.url, **override}
    with pytest.raises(HttpError) as caught:
        calendar.events().watch(calendarId="primary", body=body).execute()
    assert_http_error(caught.value, status=400, reason=reasons)
    assert receiver.of(body["id"]) == []


def test_watch_needs_an_events_scope(
    emulator_base: str, oauth_client: OAuthClient, receiver: PushReceiver
) -> None:
    service = oauth_client.authorized_calendar([SCOPE_FREEBUSY])
    with pytest.raises(HttpError) as caught:
        _watch(service, receiver)
    assert_http_error(caught.value, status=403, reason="insufficientPermissions")


def test_expired_channel_gets_no_more_deliveries(
    calendar: Resource, receiver: PushReceiver, control: EmulatorControl
) -> None:
    short = _watch(calendar, receiver, params={"ttl": "60"})
    receiver.wait_for(short["id"], 1)
    control.advance_clock(61)
    witness = _watch(calendar, receiver)
    receiver.wait_for(witness["id"], 1)
    _insert(calendar)
    receiver.wait_for(witness["id"], 2)
    time.sleep(0.3)
    assert [d.state for d in receiver.of(short["id"])] == ["sync"]


def test_a_live_channel_id_cannot_be_reused(calendar: Resource, receiver: PushReceiver) -> None:
    channel = _watch(calendar, receiver)
    body = {"id": channel["id"], "type": "web_hook", "address": receiver.url}
    with pytest.raises(HttpError) as caught:
        calendar.events().watch(calendarId="primary", body=body).execute()
    assert_http_error(caught.value, status=400, reason={"channelIdNotUnique", "invalid"})
