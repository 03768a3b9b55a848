"""/api/admin/tokens: the admin API tokens (name, created, last used, expiry), and revoking one.
A secret is shown once, by `balance-booking create-admin-token`, and never again."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response
from pydantic import BaseModel

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.auth import AdminDep
from balance_booking.web.deps import ServicesDep
from balance_booking.web.schemas import ErrorBody

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)

_UTC = ZoneInfo("UTC")


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: str
    last_used_at: str | None
    expires_at: str | None


class TokensOut(BaseModel):
    tokens: list[TokenOut]


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(_UTC).isoformat(timespec="seconds")


@router.get(
    "/tokens",
    response_model=TokensOut,
    responses={401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"}},
)
def list_tokens(_admin: AdminDep, services: ServicesDep) -> TokensOut:
    return TokensOut(
        tokens=[
            TokenOut(
                id=token.token_id,
                name=token.name,
                created_at=_instant(token.created_at) or "",
                last_used_at=_instant(token.last_used_at),
                expires_at=_instant(token.expires_at),
            )
            for token in services.list_tokens.execute()
        ]
    )


@router.delete(
    "/tokens/{token_id}",
    name="token.revoke",
    status_code=204,
    response_class=Response,
    responses={
        401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
        404: {"model": ErrorBody, "description": "Unknown token"},
    },
)
def revoke_token(token_id: int, _admin: AdminDep, services: ServicesDep) -> Response:
    services.revoke_token.execute(token_id)
    return Response(status_code=204)
