"""Ports of e-mail: what a message says (Mail), who sends it (Mailer), the .ics it carries.

The application decides which message goes to whom and with which facts; an adapter renders the
words (templates, languages) and speaks SMTP. API.md "Release 2 additions" -> "E-mail".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from balance_booking.domain.services import Price, ServiceFormat


class MailKind(StrEnum):
    """The kinds of message (API.md): each has its own subject, text and HTML."""

    CONFIRMED = "confirmed"  # client: the appointment is confirmed
    PENDING_PAYMENT = "pending_payment"  # client: a payment hold was created
    CANCELLED = "cancelled"  # client: cancelled by anyone, or the hold lapsed
    RESCHEDULED = "rescheduled"  # client: moved by anyone
    REMINDER = "reminder"  # client: a lead time before the start
    PRACTITIONER = "practitioner"  # the practitioner: booked / cancelled / moved
    WAITLIST_OFFER = "waitlist_offer"  # a waitlist entry: a slot is offered
    WAITLIST_REOPENED = "waitlist_reopened"  # an entry without a window: free times are back


class PractitionerNotice(StrEnum):
    """What a practitioner notice is about."""

    BOOKED = "booked"  # a new appointment, confirmed at once
    HELD = "held"  # a new appointment waiting for payment
    CONFIRMED = "confirmed"  # a held appointment was confirmed
    CANCELLED = "cancelled"
    LAPSED = "lapsed"  # a payment hold ran out
    MOVED = "moved"


class InviteStatus(StrEnum):
    """The VEVENT STATUS of an .ics file."""

    CONFIRMED = "CONFIRMED"
    TENTATIVE = "TENTATIVE"  # a payment hold
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarInvite:
    """One appointment as an .ics file (RFC 5545): a VCALENDAR with one VEVENT.

    `uid` is stable per appointment, so a calendar app updates the event it already has when
    `sequence` grows (a move) or the status becomes CANCELLED. Times are written in UTC.
    """

    uid: str
    sequence: int
    start: datetime  # aware; written as UTC
    end: datetime
    summary: str  # e.g. the service title; never the client's name or comment
    description: str | None = None
    location: str | None = None
    url: str | None = None  # the manage link
    status: InviteStatus = InviteStatus.CONFIRMED
    stamp: datetime  # DTSTAMP: when this version of the file was made


@dataclass(frozen=True, slots=True, kw_only=True)
class Mail:
    """Everything one message says, in facts; the adapter turns it into words and MIME.

    `message_id` is the whole header value with angle brackets:
    `<KIND.APPOINTMENT_ID[.LEAD]@DOMAIN-OF-MAIL_FROM>`. Times are aware datetimes; the adapter
    shows them in `timezone` (the client's zone, or the owner's for practitioner notices) with the
    zone's name. Links are absolute, built from PUBLIC_BASE_URL.
    """

    kind: MailKind
    message_id: str
    to: str
    language: str  # "ru" | "en"
    service_title: str
    start: datetime
    end: datetime
    timezone: str  # IANA name the times are shown in
    recipient_name: str | None = None  # the greeting ("Здравствуйте, Анна"); None: no name
    # What the service is (client messages; UX round 2): the description in the message's
    # language, the price, online or in person, and the address or how the video link arrives.
    service_description: str | None = None
    service_price: Price | None = None
    service_format: ServiceFormat | None = None
    service_location: str | None = None
    manage_url: str | None = None  # confirmed, pending_payment, rescheduled, reminder
    book_again_url: str | None = None  # cancelled
    hold_expires_at: datetime | None = None  # pending_payment
    lead: timedelta | None = None  # reminder: how long before the start
    previous_start: datetime | None = None  # rescheduled: the old time
    lapsed: bool = False  # cancelled: the payment hold ran out (nobody cancelled it)
    # practitioner notices: what happened and who the client is (only in this kind)
    notice: PractitionerNotice | None = None
    client_name: str | None = None
    client_email: str | None = None
    client_phone: str | None = None
    admin_url: str | None = None
    # waitlist offers
    accept_url: str | None = None
    offer_expires_at: datetime | None = None
    invite: CalendarInvite | None = None  # attached as an .ics file when set


class Mailer(Protocol):
    """Sends one message.

    Raises MailUnavailableError when trying again later may help (the server away, timeouts, a
    4xx answer, any refusal before the transaction such as a 5xx greeting or a refused sign-in)
    and MailRejectedError when it cannot (a 5xx to MAIL, RCPT or DATA, or a recipient address
    that cannot be sent to). Neither error's text holds an address or any secret of the SMTP
    URL. docs/email.md has the table.
    """

    def send(self, mail: Mail) -> None: ...


class CalendarFiles(Protocol):
    """Writes .ics files: the manage page's download and the e-mail attachments."""

    def invite(self, invite: CalendarInvite) -> bytes: ...
