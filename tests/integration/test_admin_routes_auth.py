"""Every admin API route and admin page refuses anonymous and wrong credentials.

The routes are read from the app itself, so a new admin endpoint is covered the day it lands.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from balance_booking.bootstrap import Container, build_app

PLACEHOLDER = re.compile(r"\{[^}]+\}")
SAMPLE = {"slug": "session", "appointment_id": "00000000-0000-4000-8000-000000000000"}


def _api_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, through included routers (FastAPI nests them)."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            found.extend(_api_routes(included.routes, prefix + getattr(context, "prefix", "")))
    return found


def admin_routes(container: Container) -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []
    for full_path, route in _api_routes(build_app(container).routes):
        if not full_path.startswith(("/api/admin", "/admin")):
            continue
        if full_path.startswith("/admin/login"):
            continue
        path = PLACEHOLDER.sub(lambda m: SAMPLE.get(m.group(0)[1:-1], "x"), full_path)
        routes.extend((method, path) for method in sorted(route.methods) if method != "HEAD")
    return routes


@pytest.mark.parametrize("credentials", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="])
def test_every_admin_route_refuses(
    client: TestClient, container: Container, credentials: str | None
) -> None:
    routes = admin_routes(container)
    assert len(routes) >= 20, routes  # the inventory itself must not silently shrink
    headers = {} if credentials is None else {"Authorization": credentials}
    for method, path in routes:
        response = client.request(method, path, headers=headers, follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json()["error"]["code"] == "unauthorized"
        else:
            # Pages send anonymous visitors to the sign-in page (possibly via a redirect).
            assert response.status_code in {303, 307}, (method, path, response.status_code)
            landed = client.request(method, path, headers=headers, follow_redirects=True)
            assert landed.url.path == "/admin/login", (method, path, str(landed.url))


def test_a_forged_session_cookie_is_refused(client: TestClient, container: Container) -> None:
    client.cookies.set("bb_admin", "forged-session-id")
    for method, path in admin_routes(container):
        response = client.request(method, path, follow_redirects=False)
        assert response.status_code in {401, 303, 307}, (method, path, response.status_code)
