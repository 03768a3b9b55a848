"""One error shape for every JSON failure: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from balance_booking.application.errors import (
    BookingLimitReachedError,
    CalendarUnavailableError,
    ChangeWindowClosedError,
    ConflictError,
    ConsentRequiredError,
    InvalidRequestError,
    NotFoundError,
    TooManyAttemptsError,
)
from balance_booking.application.offers import OfferClosedError
from balance_booking.domain.errors import DomainError

_log = structlog.get_logger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


class ApiError(Exception):
    """Raised by routers for a specific status and error code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
        self.extra = extra or {}


def error_body(code: str, message: str, *, field: str | None = None) -> dict[str, Any]:
    """The error envelope of API.md."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = error_body(code, message, field=field) | (extra or {})
    return JSONResponse(body, status_code=status, headers=headers)


def _field_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    # Drop the "body"/"query" prefix: clients care about the field name itself.
    parts = (
        [str(part) for part in location[1:]] if len(location) > 1 else [str(p) for p in location]
    )
    return ".".join(parts) or None


def calendar_unavailable(exc: CalendarUnavailableError) -> JSONResponse:
    """503 with Retry-After and the waitlist offer (API.md)."""
    return error_response(
        503,
        "calendar_unavailable",
        str(exc),
        headers={"Retry-After": str(exc.retry_after_seconds)},
        extra={"retry_after_seconds": exc.retry_after_seconds, "waitlist": True},
    )


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route answers on this path (Starlette's 405 names only the first route
    it tried, and FastAPI has one route per method)."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    )


def _unreadable_body(exc: StarletteHTTPException) -> bool:
    # FastAPI answers a JSON body it cannot decode at all (not UTF-8, nested too deep) with a bare
    # 400 raised from the decoding error; it is malformed JSON like any other, so 422 (API.md).
    return exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError)


# Machine paths answer JSON errors even when nothing is there; every other path is a page.
_MACHINE_PREFIXES = ("/api/", "/static/", "/_")
_MACHINE_PATHS = frozenset({"/api", "/healthz", "/readyz", "/metrics", "/openapi.json"})


def _is_page_path(path: str) -> bool:
    return path not in _MACHINE_PATHS and not path.startswith(_MACHINE_PREFIXES)


def _page_not_found(request: Request) -> Response:
    """An unknown page: a page in the visitor's language with the way to the booking page
    (API.md "What a person sees"), not a JSON error."""
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "not_found.html",
        {"admin": None},
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to the envelope; nothing escapes as a bare framework error."""

    @app.exception_handler(ApiError)
    def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status, exc.code, exc.message, field=exc.field, headers=exc.headers, extra=exc.extra
        )

    @app.exception_handler(RequestValidationError)
    def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        message = str(first.get("msg", "Invalid request."))
        return error_response(
            422, "invalid_request", message, field=_field_of(first.get("loc", ()))
        )

    @app.exception_handler(ConsentRequiredError)
    def _consent(_request: Request, exc: ConsentRequiredError) -> JSONResponse:
        return error_response(422, "consent_required", str(exc), field=exc.field)

    @app.exception_handler(InvalidRequestError)
    def _invalid(_request: Request, exc: InvalidRequestError) -> JSONResponse:
        return error_response(422, "invalid_request", str(exc), field=exc.field)

    @app.exception_handler(DomainError)
    def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return error_response(422, "invalid_request", str(exc))

    @app.exception_handler(NotFoundError)
    def _not_found(_request: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(404, "not_found", str(exc))

    @app.exception_handler(BookingLimitReachedError)
    def _booking_limit(_request: Request, exc: BookingLimitReachedError) -> JSONResponse:
        return error_response(409, "booking_limit_reached", str(exc))

    @app.exception_handler(TooManyAttemptsError)
    def _rate_limited(_request: Request, exc: TooManyAttemptsError) -> JSONResponse:
        return error_response(
            429,
            "rate_limited",
            str(exc),
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )

    @app.exception_handler(ChangeWindowClosedError)
    def _change_window(_request: Request, exc: ChangeWindowClosedError) -> JSONResponse:
        return error_response(409, "change_window_closed", str(exc))

    @app.exception_handler(OfferClosedError)
    def _offer_closed(_request: Request, exc: OfferClosedError) -> JSONResponse:
        return error_response(409, "offer_closed", str(exc))

    @app.exception_handler(ConflictError)
    def _conflict(_request: Request, exc: ConflictError) -> JSONResponse:
        return error_response(409, "conflict", str(exc))

    @app.exception_handler(CalendarUnavailableError)
    def _calendar(_request: Request, exc: CalendarUnavailableError) -> JSONResponse:
        return calendar_unavailable(exc)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _unreadable_body(exc):
            return error_response(
                422, "invalid_request", "The body is not valid JSON.", field="body"
            )
        if exc.status_code == 404 and _is_page_path(request.url.path):
            return _page_not_found(request)
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            headers = (headers or {}) | {"Allow": _allowed_methods(request)}
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
        return error_response(500, "internal_error", "Something went wrong on our side.")
