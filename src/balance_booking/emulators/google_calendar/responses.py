"""JSON responses the way Google writes them, honouring `fields` and `prettyPrint`."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from balance_booking.emulators.google_calendar.errors import GoogleApiError, OAuthError
from balance_booking.emulators.google_calendar.fieldmask import (
    FieldMaskError,
    apply_mask,
    parse_fields,
)

JSON_TYPE = "application/json; charset=UTF-8"


def _dump(data: Any, *, pretty: bool) -> bytes:
    if pretty:
        return json.dumps(data, indent=1, ensure_ascii=False).encode()
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _pretty(request: Request) -> bool:
    return request.query_params.get("prettyPrint", "true").lower() != "false"


def google_json(request: Request, data: Any, *, status: int = 200) -> Response:
    fields = request.query_params.get("fields")
    if fields:
        try:
            data = apply_mask(data, parse_fields(fields))
        except FieldMaskError as exc:
            raise GoogleApiError(
                400,
                "invalidParameter",
                f"Invalid field selection {fields}",
                location="fields",
                location_type="parameter",
            ) from exc
    return Response(_dump(data, pretty=_pretty(request)), status_code=status, media_type=JSON_TYPE)


def google_error_response(request: Request, error: GoogleApiError) -> Response:
    return Response(
        _dump(error.body(), pretty=_pretty(request)),
        status_code=error.status,
        media_type=JSON_TYPE,
        headers=error.headers,
    )


def oauth_error_response(error: OAuthError) -> Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **error.headers}
    return Response(
        _dump(error.body(), pretty=True),
        status_code=error.status,
        media_type=JSON_TYPE,
        headers=headers,
    )


def oauth_json(data: Any) -> Response:
    return Response(
        _dump(data, pretty=True),
        media_type=JSON_TYPE,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
