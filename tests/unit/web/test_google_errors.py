"""What the use cases record about Google, as the admin page names it (web/google_errors.py)."""

from __future__ import annotations

import pytest

from balance_booking.application.tokens import (
    CLIENT_REJECTED_MESSAGE,
    REVOKED_MESSAGE,
    TESTING_STATUS_MESSAGE,
)
from balance_booking.web.google_errors import classify


@pytest.mark.parametrize(
    ("recorded", "kind"),
    [
        ("Google Calendar could not be read: Google kept failing: 503 backendError", "unavailable"),
        ("Google kept failing: ConnectTimeout", "unavailable"),
        ("freeBusy could not read a calendar (backendError)", "unavailable"),
        ("Google revoked our access (invalid_grant).", "revoked"),
        (REVOKED_MESSAGE, "revoked"),
        (TESTING_STATUS_MESSAGE, "testing_app"),
        (CLIENT_REJECTED_MESSAGE.format(error="invalid_client"), "client_rejected"),
        ("Google refused the authorization code (invalid_grant).", "code_rejected"),
        ("access_denied", "access_denied"),
        ("Google returned no refresh token", "no_refresh_token"),
        ("no authorization code", "no_code"),
        ("freeBusy: Google answered 403 quotaExceeded", "rate_limited"),
        ("freeBusy: Google answered 429 rateLimitExceeded", "rate_limited"),
        ("freeBusy refused a calendar (notFound)", "not_found"),
        ("events.list: Google answered 403 forbidden", "forbidden"),
        ("Google OAuth client is not configured (BALANCE_GOOGLE_CLIENT_ID).", "not_configured"),
        ("Choose at least one calendar.", "choose_calendar"),
        ("something Google never said before", "unknown"),
        ("event 5034abcd could not be read", "unknown"),  # digits inside an id are no status
    ],
)
def test_each_recorded_error_has_a_kind(recorded: str, kind: str) -> None:
    problem = classify(recorded)
    assert problem is not None
    assert (problem.kind, problem.raw) == (kind, recorded)


@pytest.mark.parametrize("nothing", [None, "", "   "])
def test_no_error_is_no_problem(nothing: str | None) -> None:
    assert classify(nothing) is None
