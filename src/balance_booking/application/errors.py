"""Application errors: what a use case can refuse, independent of any transport."""

from __future__ import annotations

from datetime import datetime, timedelta


class ApplicationError(Exception):
    """Base of every refusal a use case reports to its caller."""

    # For a transient failure: how long to leave the other side alone before the next try
    # (the outbox waits at least this long); None: the usual backoff.
    retry_after: timedelta | None = None


class NotFoundError(ApplicationError):
    """The thing asked for does not exist (or is not public)."""


class ConflictError(ApplicationError):
    """The request clashes with existing state (e.g. a duplicate slug)."""


class ChangeWindowClosedError(ConflictError):
    """The client may no longer cancel or move: the service's change cut-off has passed."""


class BookingLimitReachedError(ConflictError):
    """The client already holds as many future bookings as one person may (per e-mail/phone)."""


class AlreadyBookedError(ConflictError):
    """The client asks for the slot they already hold (same e-mail, service and start).

    `email_resent`: the confirmation with the manage link was sent to their address again now or
    within the last few minutes (False only when the practice sends no e-mail)."""

    def __init__(self, message: str, *, email_resent: bool) -> None:
        super().__init__(message)
        self.email_resent = email_resent


class InvalidRequestError(ApplicationError):
    """The request is well-formed but breaks a rule; `field` names the culprit if one does."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConsentRequiredError(InvalidRequestError):
    """A privacy policy is set (PRIVACY_POLICY_URL) and the client did not accept it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="consent")


class CalendarUnavailableError(ApplicationError):
    """Busy data from Google is too old to offer or accept slots; try again later."""

    def __init__(
        self, message: str, *, retry_after_seconds: int, synced_at: datetime | None
    ) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.synced_at = synced_at


class UnauthorizedError(ApplicationError):
    """Credentials missing or wrong."""


class TooManyAttemptsError(ApplicationError):
    """Rate limit hit; try again after `retry_after_seconds`."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class InvalidOAuthStateError(ApplicationError):
    """The OAuth callback's state is unknown, reused, expired or from another session."""


class UndecryptableTokenError(ApplicationError):
    """No configured key decrypts a stored secret (keys lost or rotated away)."""


class AccessRevokedError(ApplicationError):
    """Google refused our refresh token (invalid_grant): the admin must reconnect."""


class GoogleUnavailableError(ApplicationError):
    """Google could not be reached or kept failing within our retry budget."""


class GoogleQuotaExceededError(GoogleUnavailableError):
    """403 `quotaExceeded` ("Calendar usage limits exceeded"): the calendar takes no writes for
    hours (Google's abuse protection, not the per-minute quota). Transient, but retried in hours."""

    retry_after = timedelta(hours=1)


class GoogleRequestError(ApplicationError):
    """Google refused a request permanently (a 4xx other than auth and rate limits)."""

    def __init__(self, message: str, *, status: int, reason: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class OAuthClientRejectedError(GoogleRequestError):
    """Google's token endpoint refused our OAuth client itself (`invalid_client`,
    `deleted_client`, `unauthorized_client`): a configuration error, not the owner's grant.

    A GoogleRequestError, so every caller that survives a refusal survives this one too (the
    live check falls back, the sync records a failure); the outbox holds, never parks, it.
    """

    def __init__(self, message: str, *, error: str) -> None:
        super().__init__(message, status=401, reason=error)
        self.error = error


class DeletedEventWriteRefusedError(GoogleRequestError):
    """Google refuses to write to an event deleted in Google (403 on PUT/PATCH, or the write
    answered with `status: cancelled`); its id cannot be reused either: insert a fresh id."""


class OAuthExchangeError(ApplicationError):
    """The authorization code could not be exchanged (e.g. invalid_grant, invalid_client)."""

    def __init__(self, message: str, *, error: str) -> None:
        super().__init__(message)
        self.error = error


class SlotTakenError(ApplicationError):
    """The database guard refused an overlapping active appointment."""


class MailUnavailableError(ApplicationError):
    """The SMTP server could not take the message now (refused, timed out, 4xx): retry later."""


class MailRejectedError(ApplicationError):
    """The SMTP server refused the message for good (a 5xx for the recipient): park it."""
