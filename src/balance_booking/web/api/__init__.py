"""The JSON API: one router module per URL prefix (public/, admin/, webhooks).

ROUTERS lists them hottest first: a request is matched against the routes in order, and with
FastAPI's included routers each route passed costs a few microseconds (the booking POST was
matched after about sixty routes, 0.2 ms of CPU, a fifth of a whole /healthz request).
"""

from __future__ import annotations

from fastapi import APIRouter

from balance_booking.web.api import webhooks
from balance_booking.web.api.admin import (
    appointments as admin_appointments,
)
from balance_booking.web.api.admin import (
    busy,
    explain,
    integrations,
    outbox,
    privacy,
    schedule,
    session,
    tokens,
)
from balance_booking.web.api.admin import (
    services as admin_services,
)
from balance_booking.web.api.admin import (
    waitlist as admin_waitlist,
)
from balance_booking.web.api.public import (
    appointments,
    offers,
    slots,
    tracking,
    waitlist,
)
from balance_booking.web.api.public import (
    services as public_services,
)

ROUTERS: tuple[APIRouter, ...] = (
    slots.router,  # the booking page's every look at a week
    appointments.router,
    tracking.router,
    public_services.router,
    waitlist.router,
    session.router,
    busy.router,
    schedule.router,
    admin_services.router,
    integrations.router,
    admin_appointments.router,
    admin_waitlist.router,
    webhooks.router,
    outbox.router,  # release 2
    tokens.router,
    privacy.router,
    offers.router,
    explain.router,  # release 2: explainable availability
)
