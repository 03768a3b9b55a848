"""Admin routes open an audit draft for each request (application/audit.py has the mechanism).

Every router of the admin API and the admin pages is built with `route_class=AuditedRoute`; the
action is the route's name, the target its path parameters (ids and slugs only), the address the
client's (uvicorn resolves a trusted proxy's X-Forwarded-For). Authentication names the actor.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from balance_booking.application.audit import auditing


def path_target(params: Mapping[str, Any]) -> str | None:
    """`slug=session`, `appointment_id=...`: what the route's path names, or None."""
    return ",".join(f"{key}={value}" for key, value in params.items()) or None


class AuditedRoute(APIRoute):
    """A route whose request, if it changes something, is one admin action in the audit log."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        action = self.name

        async def audited(request: Request) -> Response:
            with auditing(
                action,
                target=path_target(request.path_params),
                ip=request.client.host if request.client else None,
            ):
                return await handler(request)

        return audited


ADMIN_PREFIXES = ("/api/admin", "/admin")


def is_admin_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in ADMIN_PREFIXES)


def admin_routes(app: FastAPI) -> list[RouteContext]:
    """Every API route under /api/admin or /admin, with its full path (FastAPI keeps included
    routers as they are and resolves prefixes lazily)."""
    return [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and is_admin_path(context.path or "")
    ]


def require_audited_admin_routes(app: FastAPI) -> None:
    """Refuse to build an app with an admin route outside the audit mechanism."""
    plain = [
        route.path
        for route in admin_routes(app)
        if not isinstance(route.original_route, AuditedRoute)
    ]
    if plain:
        raise RuntimeError(f"admin routes without route_class=AuditedRoute: {plain}")
