"""The HTTP edge (API.md "Public edge"): the 1 MiB body limit decided before buffering, the
security headers on every route, links that ignore the Host header, /metrics behind a token."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.routing import Mount

from balance_booking.bootstrap import Container, build_app
from balance_booking.config import Settings
from balance_booking.web.edge import MAX_BODY_BYTES
from tests.support.live_server import serve_app

BOOK = "/api/public/booking/appointments"
MIB = 1024 * 1024


def booking_body(pad_to: int | None = None) -> bytes:
    body = json.dumps(
        {
            "service_slug": "session",
            "start": "2026-12-01T12:00:00+03:00",
            "timezone": "Europe/Moscow",
            "client": {"name": "Анна", "email": "anna@example.com"},
        }
    ).encode()
    return body if pad_to is None else body + b" " * (pad_to - len(body))


def test_a_body_of_exactly_one_mib_minus_one_is_read(practice: TestClient) -> None:
    body = booking_body(pad_to=MIB - 1)
    answer = practice.post(BOOK, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text[:200]
    over = practice.post(
        BOOK, content=booking_body(pad_to=MIB + 1), headers={"Content-Type": "application/json"}
    )
    assert over.status_code == 413
    assert over.json()["error"]["code"] == "payload_too_large"


def _streamed(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(chunk, total - sent)
        sent += piece
        yield b"a" * piece


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_64_mib_body_is_refused_without_being_held(
    practice: TestClient, container: Container, content_type: str
) -> None:
    """Over a real socket (TestClient would buffer the body itself): declared or streamed."""
    process = psutil.Process()
    with serve_app(build_app(container)) as base, httpx.Client(base_url=base, timeout=30) as http:
        http.get("/healthz")
        before = process.memory_info().rss
        answers = []
        for path, headers in (
            (BOOK, {"Content-Length": str(64 * MIB)}),
            # Chunked: no length given, counted as it streams, by a route that reads it.
            (BOOK if content_type == "application/json" else "/admin/login", {}),
        ):
            try:
                answer = http.post(
                    path,
                    content=_streamed(64 * MIB),
                    headers={"Content-Type": content_type} | headers,
                )
            except httpx.TransportError:  # the server may close while the client still sends
                answers.append(None)
                continue
            answers.append(answer)
        grown = process.memory_info().rss - before
    for answer in answers:
        assert answer is None or answer.status_code == 413
        if answer is not None:
            assert answer.json()["error"]["code"] == "payload_too_large"
    assert any(answer is not None for answer in answers)
    assert grown < 5 * MIB, f"RSS grew by {grown / MIB:.1f} MiB"


def test_a_nul_in_a_multipart_sign_in_form_is_422(client: TestClient) -> None:
    answer = client.post(
        "/admin/login",
        files={"email": (None, "owner\x00@example.com"), "password": (None, "x" * 12)},
    )
    assert answer.status_code == 422


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, into included routers too; path parameters filled in."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes, included.prefix)
        elif isinstance(route, Mount):
            yield "GET", f"{route.path}/app.css"
        elif hasattr(route, "methods"):
            path = route.path if route.path.startswith(prefix) else prefix + route.path
            path = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
            for method in sorted(route.methods or []):
                yield method, path


def test_every_route_answers_with_the_security_headers(
    client: TestClient, container: Container
) -> None:
    routes = list(_walk(build_app(container).routes))
    assert len(routes) >= 60
    for method, path in routes:
        answer = client.request(method, path, follow_redirects=False)
        headers = answer.headers
        assert headers.get("x-content-type-options") == "nosniff", (method, path)
        assert headers.get("referrer-policy") in {"same-origin", "no-referrer"}, (method, path)
        if headers.get("content-type", "").startswith("text/html"):
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert headers["x-frame-options"] == "DENY", path
            if path != "/api/docs":
                assert "unsafe-inline" not in headers["content-security-policy"], path
        assert "strict-transport-security" not in headers, "http here"


@pytest.fixture
def over_https(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_base_url": "https://balance.example.org",
            "metrics_token": SecretStr("m" * 40),
        }
    )


def test_https_brings_hsts_and_metrics_can_require_a_token(over_https: Settings) -> None:
    from balance_booking.bootstrap import build_container  # noqa: PLC0415

    container = build_container(over_https)
    try:
        with TestClient(build_app(container)) as client:
            answer = client.get("/healthz")
            assert answer.headers["strict-transport-security"].startswith("max-age=")
            assert client.get("/metrics").status_code == 401
            assert (
                client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
            )
            allowed = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 40}"})
            assert allowed.status_code == 200
    finally:
        container.close()


def test_the_host_header_changes_no_link(practice: TestClient, settings: Settings) -> None:
    booked = practice.post(
        BOOK, content=booking_body(), headers={"Content-Type": "application/json"}
    )
    appointment: dict[str, Any] = booked.json()["appointment"]
    query = {"token": appointment["manage_token"]}
    evil = {"Host": "evil.example"}
    page = practice.get(f"/booking/manage/{appointment['id']}", params=query, headers=evil)
    ics = practice.get(
        f"/booking/manage/{appointment['id']}/calendar.ics", params=query, headers=evil
    )
    assert page.status_code == 200
    assert ics.status_code == 200
    for text in (page.text, ics.text):
        assert "evil.example" not in text
    assert settings.public_base_url in ics.text.replace("\r\n ", "")


def test_body_limit_is_one_mib() -> None:
    assert MAX_BODY_BYTES == MIB
