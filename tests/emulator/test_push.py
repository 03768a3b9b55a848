"""events.watch / channels.stop and push delivery to a loopback receiver."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from tests.emulator.helpers import EVENTS_PATH, Emulator, error_reason, timed, wait_for
from tests.support.live_server import serve_app


@dataclass
class Receiver:
    """Records every notification; answers with queued statuses first, then 200."""

    url: str
    calls: list[dict[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[dict[str, str]]:
        with self.lock:
            return [c for c in self.calls if c["status"] == "200"]


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[tuple[str, list[Receiver]]]:
    current: list[Receiver] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        receiver = current[-1]
        body = await request.body()
        with receiver.lock:
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            receiver.calls.append(
                {
                    **{k.lower(): v for k, v in request.headers.items()},
                    "status": str(status),
                    "body": body.decode(),
                }
            )
        return Response(status_code=status)

    with serve_app(app) as base:
        yield base, current


@pytest.fixture
def receiver(receiver_server: tuple[str, list[Receiver]]) -> Receiver:
    base, current = receiver_server
    fresh = Receiver(url=f"{base}/hook")
    current.append(fresh)
    return fresh


def watch(api: httpx.Client, address: str, **extra: object) -> httpx.Response:
    return api.post(
        f"{EVENTS_PATH}/watch",
        json={"id": "chan-1", "type": "web_hook", "address": address, **extra},
    )


def test_sync_then_exists_with_increasing_gapped_numbers(
    api: httpx.Client, emu: Emulator, receiver: Receiver
) -> None:
    response = watch(api, receiver.url, token="secret-token")
    assert response.status_code == 200, response.text
    channel = response.json()
    assert channel["kind"] == "api#channel"
    assert channel["id"] == "chan-1"
    assert channel["token"] == "secret-token"
    assert isinstance(channel["expiration"], str)
    wait_for(lambda: len(receiver.delivered()) == 1)
    sync = receiver.delivered()[0]
    assert sync["x-goog-resource-state"] == "sync"
    assert sync["x-goog-message-number"] == "1"
    assert sync["x-goog-channel-id"] == "chan-1"
    assert sync["x-goog-channel-token"] == "secret-token"
    assert sync["x-goog-resource-id"] == channel["resourceId"]
    assert sync["x-goog-resource-uri"] == channel["resourceUri"]
    assert sync["x-goog-channel-expiration"].endswith(" GMT")
    assert sync["body"] == ""
    event = api.post(EVENTS_PATH, json=timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z")).json()
    api.patch(f"{EVENTS_PATH}/{event['id']}", json={"summary": "x"})
    api.delete(f"{EVENTS_PATH}/{event['id']}")
    wait_for(lambda: len(receiver.delivered()) == 4)
    later = receiver.delivered()[1:]
    assert {c["x-goog-resource-state"] for c in later} == {"exists"}
    numbers = [int(c["x-goog-message-number"]) for c in receiver.delivered()]
    assert numbers == sorted(numbers)
    assert all(b - a >= 2 for a, b in itertools.pairwise(numbers))


def test_retries_on_5xx(api: httpx.Client, receiver: Receiver) -> None:
    receiver.statuses = [503, 500]
    watch(api, receiver.url)
    wait_for(lambda: len(receiver.delivered()) == 1)
    assert [c["status"] for c in receiver.calls] == ["503", "500", "200"]
    assert len({c["x-goog-message-number"] for c in receiver.calls}) == 1


def test_no_retry_on_4xx(api: httpx.Client, emu: Emulator, receiver: Receiver) -> None:
    receiver.statuses = [404]
    watch(api, receiver.url)
    wait_for(lambda: any(d["outcome"] == "404" for d in emu.http.get("/_emulator/pushes").json()))
    emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z"))
    wait_for(lambda: len(receiver.delivered()) == 1)
    assert [c["status"] for c in receiver.calls] == ["404", "200"]


def test_retries_are_bounded(api: httpx.Client, emu: Emulator, receiver: Receiver) -> None:
    receiver.statuses = [503] * 10
    watch(api, receiver.url)
    # The test config allows 3 retries: 4 attempts in all, then the message is dropped.
    wait_for(lambda: len(emu.http.get("/_emulator/pushes").json()) >= 4)
    wait_for(lambda: len(receiver.calls) >= 4)
    threading.Event().wait(0.5)
    assert len(receiver.calls) == 4


def test_stop_ends_delivery(api: httpx.Client, emu: Emulator, receiver: Receiver) -> None:
    channel = watch(api, receiver.url).json()
    wait_for(lambda: len(receiver.delivered()) == 1)
    wrong = api.post("/channels/stop", json={"id": "chan-1", "resourceId": "nope"})
    assert error_reason(wrong) == (404, "notFound")
    stopped = api.post("/channels/stop", json={"id": "chan-1", "resourceId": channel["resourceId"]})
    assert stopped.status_code == 204
    emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z"))
    threading.Event().wait(0.3)
    assert len(receiver.calls) == 1


def test_expired_channels_are_silent(api: httpx.Client, emu: Emulator, receiver: Receiver) -> None:
    channel = watch(api, receiver.url, params={"ttl": "60"}).json()
    wait_for(lambda: len(receiver.delivered()) == 1)
    now_ms = int(emu.http.get("/_emulator/state").json()["channels"][0]["expiration_ms"])
    assert int(channel["expiration"]) == now_ms
    emu.advance(61)
    emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z"))
    threading.Event().wait(0.3)
    assert len(receiver.calls) == 1


def test_expiration_is_capped(api: httpx.Client) -> None:
    # Port 9 on loopback refuses connections, so nothing leaves the machine.
    far = watch(api, "https://127.0.0.1:9/hook", expiration="99999999999999").json()
    default = api.post(
        f"{EVENTS_PATH}/watch",
        json={"id": "chan-2", "type": "web_hook", "address": "https://127.0.0.1:9/hook"},
    ).json()
    difference = int(far["expiration"]) - int(default["expiration"])
    assert abs(difference - (2_592_000 - 604_800) * 1000) < 1000


@pytest.mark.parametrize(
    "address",
    ["http://example.com/hook", "http://10.0.0.1/hook", "ftp://127.0.0.1/hook", "not a url"],
)
def test_non_https_addresses_are_refused(api: httpx.Client, address: str) -> None:
    response = watch(api, address)
    assert error_reason(response) == (400, "push.webhookUrlNotHttps")


def test_loopback_http_and_https_are_accepted(api: httpx.Client) -> None:
    for index, address in enumerate(
        (
            "http://localhost:9/h",
            "http://[::1]:9/h",
            "http://127.1.2.3:9/h",
            "https://127.0.0.1:9/h",
        )
    ):
        response = api.post(
            f"{EVENTS_PATH}/watch", json={"id": f"c{index}", "type": "web_hook", "address": address}
        )
        assert response.status_code == 200, address


def test_watch_validation(api: httpx.Client, receiver: Receiver) -> None:
    assert error_reason(
        api.post(f"{EVENTS_PATH}/watch", json={"type": "web_hook", "address": receiver.url})
    ) == (400, "required")
    assert watch(api, receiver.url, id="x" * 65).status_code == 400
    assert watch(api, receiver.url, token="t" * 257).status_code == 400
    assert watch(api, receiver.url).status_code == 200
    assert error_reason(watch(api, receiver.url)) == (400, "channelIdNotUnique")
