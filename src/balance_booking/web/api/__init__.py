"""The JSON API: one router module per URL prefix (public/, admin/, webhooks).

ROUTERS lists them in release 1's order, so that /openapi.json lists its paths as it did.
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
    session.router,
    busy.router,
    public_services.router,
    slots.router,
    schedule.router,
    admin_services.router,
    integrations.router,
    appointments.router,
    waitlist.router,
    tracking.router,
    admin_appointments.router,
    admin_waitlist.router,
    webhooks.router,
    outbox.router,  # release 2
    tokens.router,
    privacy.router,
    offers.router,
    explain.router,  # release 2: explainable availability
)
