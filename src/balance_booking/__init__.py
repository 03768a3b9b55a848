"""balance-booking: booking back end and pages with Google Calendar sync."""

__version__ = "0.1.0"
