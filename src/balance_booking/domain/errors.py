"""Errors raised by the domain: each one names the rule that was broken.

The names are the ones every layer was written against (InvalidX, UnknownTimeZone), so N818's
"Error" suffix is waived per class instead of renaming them.
"""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidInterval(DomainError):  # noqa: N818
    """An interval or instant breaks the time rules (naive datetime, empty or reversed range)."""


class InvalidSchedule(DomainError):  # noqa: N818
    """Weekly hours or date overrides are malformed (bad "HH:MM", overlaps, unknown weekday)."""


class InvalidService(DomainError):  # noqa: N818
    """A service's settings are out of range (slug, title, duration, buffers, step, horizon)."""


class InvalidTransition(DomainError):  # noqa: N818
    """An appointment was asked to move to a status its current status does not allow."""


class UnknownTimeZone(DomainError):  # noqa: N818
    """A time zone name is not an IANA zone this machine knows."""


class InvalidClient(DomainError):  # noqa: N818
    """A client's contact details are missing (empty name, an email without "@")."""
