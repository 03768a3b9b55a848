"""Application errors: what a use case can refuse, independent of any transport."""

from __future__ import annotations

from datetime import datetime


class ApplicationError(Exception):
    """Base of every refusal a use case reports to its caller."""


class NotFoundError(ApplicationError):
    """The thing asked for does not exist (or is not public)."""


class ConflictError(ApplicationError):
    """The request clashes with existing state (e.g. a duplicate slug)."""


class InvalidRequestError(ApplicationError):
    """The request is well-formed but breaks a rule; `field` names the culprit if one does."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CalendarUnavailableError(ApplicationError):
    """Busy data from Google is too old to offer or accept slots; try again later."""

    def __init__(
        self, message: str, *, retry_after_seconds: int, synced_at: datetime | None
    ) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.synced_at = synced_at
