"""Application errors: what a use case can refuse, independent of any transport."""

from __future__ import annotations

from datetime import datetime


class ApplicationError(Exception):
    """Base of every refusal a use case reports to its caller."""


class NotFoundError(ApplicationError):
    """The thing asked for does not exist (or is not public)."""


class ConflictError(ApplicationError):
    """The request clashes with existing state (e.g. a duplicate slug)."""


class ChangeWindowClosedError(ConflictError):
    """The client may no longer cancel or move: the service's change cut-off has passed."""


class BookingLimitReachedError(ConflictError):
    """The client already holds as many future bookings as one person may (per e-mail/phone)."""


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


class GoogleRequestError(ApplicationError):
    """Google refused a request permanently (a 4xx other than auth and rate limits)."""

    def __init__(self, message: str, *, status: int, reason: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


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
