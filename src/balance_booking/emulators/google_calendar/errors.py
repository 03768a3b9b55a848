"""Google's two error shapes: the Calendar v3 JSON error and the flat OAuth token-endpoint error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Reasons that Google files under the usageLimits domain (quota and rate limiting).
_USAGE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
)
# Reasons that Google files under the calendar domain rather than global.
_CALENDAR_REASONS = frozenset(
    {
        "timeRangeEmpty",
        "timeRangeTooLong",
        "fullSyncRequired",
        "updatedMinTooLongAgo",
        "forbiddenForNonOrganizer",
        "requiredAccessLevel",
    }
)

# google.rpc status names, sent by Google on newer error responses (401/403/429/5xx).
_RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Default reason and message for an injected fault of a given status (Google's wording).
DEFAULT_FAULT_REASONS: dict[int, tuple[str, str]] = {
    400: ("badRequest", "Bad Request"),
    401: ("authError", "Invalid Credentials"),
    403: ("rateLimitExceeded", "Rate Limit Exceeded"),
    404: ("notFound", "Not Found"),
    409: ("conflict", "Conflict"),
    410: ("deleted", "Resource has been deleted"),
    412: ("conditionNotMet", "Precondition Failed"),
    429: ("rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("backendError", "Backend Error"),
    502: ("backendError", "Bad Gateway"),
    503: ("backendError", "The service is currently unavailable."),
    504: ("backendError", "Deadline exceeded"),
}

REASON_MESSAGES: dict[str, str] = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "dailyLimitExceeded": "Daily Limit Exceeded",
    "backendError": "Backend Error",
    "forbidden": "Forbidden",
    "notFound": "Not Found",
    "deleted": "Resource has been deleted",
    "duplicate": "The requested identifier already exists.",
    "conflict": "Conflict",
    "fullSyncRequired": "Sync token is no longer valid, a full sync is required.",
    "authError": "Invalid Credentials",
    "insufficientPermissions": "Insufficient Permission",
    "conditionNotMet": "Precondition Failed",
    "timeRangeEmpty": "The specified time range is empty.",
    "requiredAccessLevel": "You need to have writer access to this calendar.",
}


def domain_for(reason: str) -> str:
    if reason in _USAGE_LIMIT_REASONS:
        return "usageLimits"
    if reason in _CALENDAR_REASONS:
        return "calendar"
    return "global"


@dataclass(slots=True)
class GoogleApiError(Exception):
    """A Calendar v3 error; rendered as `{"error": {"errors": [...], "code", "message"}}`."""

    status: int
    reason: str
    message: str
    domain: str | None = None
    location: str | None = None
    location_type: str | None = None
    top_message: str | None = None  # Google sometimes words the top-level message differently
    with_rpc_status: bool = False
    details: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "domain": self.domain or domain_for(self.reason),
            "reason": self.reason,
            "message": self.message,
        }
        if self.location_type is not None:
            item["locationType"] = self.location_type
        if self.location is not None:
            item["location"] = self.location
        error: dict[str, Any] = {
            "errors": [item],
            "code": self.status,
            "message": self.top_message or self.message,
        }
        if self.with_rpc_status and self.status in _RPC_STATUS:
            error["status"] = _RPC_STATUS[self.status]
        if self.details:
            error["details"] = self.details
        return {"error": error}


@dataclass(slots=True)
class OAuthError(Exception):
    """An RFC 6749 §5.2 error from the token, revoke or userinfo endpoints."""

    status: int
    error: str
    description: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


def fault_error(status: int, reason: str | None) -> GoogleApiError:
    """A Google-shaped error for an injected fault; unknown statuses get a generic reason."""
    default_reason, default_message = DEFAULT_FAULT_REASONS.get(status, ("backendError", "Error"))
    chosen = reason or default_reason
    message = REASON_MESSAGES.get(chosen, default_message) if reason else default_message
    return GoogleApiError(
        status=status,
        reason=chosen,
        message=message,
        with_rpc_status=status in {401, 403, 429} or status >= 500,
    )


def not_found() -> GoogleApiError:
    return GoogleApiError(404, "notFound", "Not Found")


def bad_request(
    message: str, *, reason: str = "badRequest", location: str | None = None
) -> GoogleApiError:
    return GoogleApiError(
        400,
        reason,
        message,
        location=location,
        location_type="parameter" if location else None,
    )


def invalid_body(message: str) -> GoogleApiError:
    return GoogleApiError(400, "invalid", message)


def required_field(message: str) -> GoogleApiError:
    return GoogleApiError(400, "required", message)


def time_range_empty(location: str = "timeMax") -> GoogleApiError:
    return GoogleApiError(
        400,
        "timeRangeEmpty",
        "The specified time range is empty.",
        location=location,
        location_type="parameter",
    )
