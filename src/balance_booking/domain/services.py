"""A bookable kind of session: how long it lasts and how its slots are laid out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from balance_booking.domain.errors import InvalidService

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.ASCII)
_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
_MIN_DURATION = timedelta(minutes=5)
_TITLE_MAX = 200
_MAX_DAYS_AHEAD = 730
_CUTOFF_MAX = timedelta(days=30)
_DESCRIPTION_MAX = 2000
_LOCATION_MAX = 500
_PRICE_MAX = Decimal(10000000)
_CENT = Decimal("0.01")
_CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
# Plain text may hold line breaks and tabs; other control characters are never typed by a person.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ServiceFormat(StrEnum):
    """Where a session takes place."""

    ONLINE = "online"
    IN_PERSON = "in_person"
    EITHER = "either"  # the client chooses (online or in person)


@dataclass(frozen=True, slots=True)
class Price:
    """What one session costs: an exact decimal amount (at most 2 places) in an ISO 4217 currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidService(f"price amount must be a finite Decimal, got {self.amount!r}")
        # The range is checked first: quantize() of a huge number raises instead of answering.
        if not Decimal(0) <= self.amount <= _PRICE_MAX or self.amount != self.amount.quantize(
            _CENT
        ):
            raise InvalidService(
                f"price amount must be 0..{_PRICE_MAX} with at most 2 decimal places"
            )
        if not isinstance(self.currency, str) or _CURRENCY.fullmatch(self.currency) is None:
            raise InvalidService(f"price currency must be an ISO 4217 code, got {self.currency!r}")

    @property
    def minor_units(self) -> int:
        """The amount in hundredths (a fixed scale of 2, whatever the currency's own minor unit)."""
        return int(self.amount.scaleb(2))

    @classmethod
    def from_minor_units(cls, minor: int, currency: str) -> Price:
        return cls(amount=Decimal(minor).scaleb(-2), currency=currency)


def _check_text(name: str, value: object, *, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise InvalidService(f"{name} must be None or a non-empty string")
    if len(value) > limit:
        raise InvalidService(f"{name} must be at most {limit} characters")
    if _CONTROL.search(value):
        raise InvalidService(f"{name} must be plain text without control characters")


def _check_title(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidService(f"{name} must be a non-empty string")
    if len(value) > _TITLE_MAX:
        raise InvalidService(f"{name} must be at most {_TITLE_MAX} characters")


def _check_minutes(name: str, value: object, *, low: timedelta, high: timedelta) -> None:
    if not isinstance(value, timedelta):
        raise InvalidService(f"{name} must be a timedelta, got {type(value).__name__}")
    # Whole minutes: the admin API speaks minutes, and a grid off the minute would render as
    # start times nobody can read ("10:00:30").
    if not low <= value <= high or value % _MINUTE:
        raise InvalidService(f"{name} must be whole minutes between {low} and {high}, got {value}")


def _is_int(value: object) -> bool:
    # bool is an int subclass; "max_days_ahead=True" is a bug, not a day count.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Service:
    """A session type. ``slot_step`` None means slots follow each other (step = duration)."""

    slug: str
    title: str
    duration: timedelta
    title_en: str | None = None
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    slot_step: timedelta | None = None
    min_notice: timedelta = timedelta(0)
    max_days_ahead: int = 90
    daily_limit: int | None = None
    requires_payment: bool = False
    active: bool = True
    # Clients may cancel or move until this long before the start (0: until the start).
    change_cutoff: timedelta = timedelta(0)
    # What a first-time client learns before booking (API.md "What a person sees (UX round 2)").
    description: str | None = None  # plain text, Russian (the practice's language)
    description_en: str | None = None
    price: Price | None = None  # None: not stated
    format: ServiceFormat = ServiceFormat.EITHER
    location: str | None = None  # an address, or how the video link arrives

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or _SLUG.fullmatch(self.slug) is None:
            raise InvalidService(
                f"slug must be 1-63 of a-z, 0-9 and '-', starting with a letter or digit: {self.slug!r}"
            )
        _check_title("title", self.title)
        if self.title_en is not None:
            _check_title("title_en", self.title_en)
        _check_minutes("duration", self.duration, low=_MIN_DURATION, high=_DAY)
        _check_minutes("buffer_before", self.buffer_before, low=timedelta(0), high=_DAY)
        _check_minutes("buffer_after", self.buffer_after, low=timedelta(0), high=_DAY)
        if self.slot_step is not None:
            # The 24 h ceiling is not a limit in practice: a working window is at most one local
            # day, so any longer step already yields one slot per window.
            _check_minutes("slot_step", self.slot_step, low=_MIN_DURATION, high=_DAY)
        if not isinstance(self.min_notice, timedelta) or self.min_notice < timedelta(0):
            raise InvalidService(f"min_notice must be a timedelta >= 0, got {self.min_notice!r}")
        _check_minutes("change_cutoff", self.change_cutoff, low=timedelta(0), high=_CUTOFF_MAX)
        if not _is_int(self.max_days_ahead) or not 1 <= self.max_days_ahead <= _MAX_DAYS_AHEAD:
            raise InvalidService(
                f"max_days_ahead must be an int in 1..{_MAX_DAYS_AHEAD}, got {self.max_days_ahead!r}"
            )
        if self.daily_limit is not None and (not _is_int(self.daily_limit) or self.daily_limit < 1):
            raise InvalidService(
                f"daily_limit must be None or an int >= 1, got {self.daily_limit!r}"
            )
        _check_text("description", self.description, limit=_DESCRIPTION_MAX)
        _check_text("description_en", self.description_en, limit=_DESCRIPTION_MAX)
        _check_text("location", self.location, limit=_LOCATION_MAX)
        if self.price is not None and not isinstance(self.price, Price):
            raise InvalidService(f"price must be None or a Price, got {self.price!r}")
        if not isinstance(self.format, ServiceFormat):
            raise InvalidService(f"format must be a ServiceFormat, got {self.format!r}")

    @property
    def step(self) -> timedelta:
        """The distance between two candidate starts in a working window."""
        return self.duration if self.slot_step is None else self.slot_step

    def description_in(self, language: str) -> str | None:
        """The description for a reader of `language`: the English one when there is one."""
        if language == "en" and self.description_en:
            return self.description_en
        return self.description

    def change_deadline(self, start: datetime) -> datetime:
        """The last instant a client may still cancel or move an appointment starting at `start`."""
        return start - self.change_cutoff
