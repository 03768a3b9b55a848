"""GET /api/admin/session: who is signed in, and the CSRF token for cookie-authenticated calls."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.auth import AdminDep
from balance_booking.web.schemas import ErrorBody, SessionOut

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)

_UTC = ZoneInfo("UTC")


@router.get(
    "/session",
    response_model=SessionOut,
    responses={401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"}},
)
def current_admin(admin: AdminDep, response: Response) -> SessionOut:
    """Who is signed in, and the CSRF token scripts send with cookie-authenticated changes."""
    # Readable by same-origin scripts only (no CORS), so handing out the token here is safe.
    response.headers["Cache-Control"] = "no-store"
    session = admin.session
    return SessionOut(
        kind=admin.kind,
        label=admin.label,
        csrf_token=None if session is None else session.csrf_token,
        expires_at=None
        if session is None
        else session.expires_at.astimezone(_UTC).isoformat(timespec="seconds"),
    )
