"""Google's errors as the practitioner reads them: a known kind of problem, and the raw text.

The use cases record what Google said in English engineering terms (`503 backendError`,
`invalid_grant`, `access_denied`); the API returns that as it is (the contract). The admin
pages translate at the page: `classify` names the kind of problem, the template
(`_google_problem.html`) says it in the page's language with what to do next, and the raw text
stays in a collapsed "details for support" box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# First match wins: the more specific phrases come before the codes they contain (a refused
# authorization code says invalid_grant too, but reconnecting is not the answer there).
_SIGNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("testing_app", ("Testing publishing status", "7 days after consent")),
    ("code_rejected", ("refused the authorization code",)),
    ("not_configured", ("not configured",)),
    (
        "client_rejected",
        ("rejected the OAuth client", "invalid_client", "deleted_client", "unauthorized_client"),
    ),
    (
        "revoked",
        (
            "invalid_grant",
            "access was revoked",
            "revoked our access",
            "cannot be decrypted",
            "fresh token was refused",
        ),
    ),
    ("access_denied", ("access_denied", "consent_required", "interaction_required")),
    ("no_refresh_token", ("no refresh token",)),
    ("no_code", ("no authorization code",)),
    ("rate_limited", ("quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", r"\b429\b")),
    (
        "unavailable",
        (
            r"\b5\d\d\b",
            "backendError",
            "internalError",
            "kept failing",
            "Timeout",
            "ConnectError",
            "TransportError",
            "could not read a calendar",
        ),
    ),
    ("not_found", ("notFound", r"\b404\b", r"\b410\b")),
    ("forbidden", ("forbidden", "insufficientPermissions", r"\b403\b", "refused a calendar")),
    ("switched_off", ("switched off",)),
    ("not_connected", ("not connected",)),
    ("choose_calendar", ("Choose at least one calendar",)),
)
_RULES = tuple((kind, re.compile("|".join(signs), re.IGNORECASE)) for kind, signs in _SIGNS)


@dataclass(frozen=True, slots=True)
class GoogleProblem:
    """One of the kinds the page has words for (`unknown` otherwise), and what Google said."""

    kind: str
    raw: str


def classify(raw: str | None) -> GoogleProblem | None:
    """The kind of problem in a recorded error text; None when there is no error."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    for kind, pattern in _RULES:
        if pattern.search(text):
            return GoogleProblem(kind, text)
    return GoogleProblem("unknown", text)
