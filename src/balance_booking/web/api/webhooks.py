"""Inbound webhooks: Google Calendar push notifications (headers only, no body)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from balance_booking.application.push import PushNotice, PushRejectedError
from balance_booking.web.deps import ServicesDep
from balance_booking.web.errors import ApiError
from balance_booking.web.paths import WEBHOOK_PATH
from balance_booking.web.schemas import ErrorBody, WebhookOut

router = APIRouter(tags=["webhooks"])


@router.post(
    WEBHOOK_PATH,
    response_model=WebhookOut,
    summary="Google Calendar push notification",
    description=(
        "Called by Google (events.watch). Verified against the live channel: an unknown channel "
        "id is 404 `not_found`; a wrong resource id or token is 401 `unauthorized`; a `sync` "
        "message or a message number not above the last one seen is acknowledged and ignored; "
        "a valid `exists` message is answered at once and schedules one coalesced sync."
    ),
    responses={
        401: {"model": ErrorBody, "description": "Wrong resource id or channel token"},
        404: {"model": ErrorBody, "description": "No live channel has this id"},
        422: {"model": ErrorBody, "description": "Malformed X-Goog-Message-Number"},
    },
)
def google_calendar_push(  # Google's header values are short; the caps keep forgeries small.
    *,
    services: ServicesDep,
    x_goog_channel_id: Annotated[
        str | None, Header(alias="X-Goog-Channel-ID", max_length=256)
    ] = None,
    x_goog_resource_id: Annotated[
        str | None, Header(alias="X-Goog-Resource-ID", max_length=256)
    ] = None,
    x_goog_channel_token: Annotated[
        str | None, Header(alias="X-Goog-Channel-Token", max_length=256)
    ] = None,
    x_goog_resource_state: Annotated[
        str | None, Header(alias="X-Goog-Resource-State", max_length=32)
    ] = None,
    x_goog_message_number: Annotated[
        str | None, Header(alias="X-Goog-Message-Number", max_length=32)
    ] = None,
) -> WebhookOut:
    notice = PushNotice(
        channel_id=x_goog_channel_id,
        resource_id=x_goog_resource_id,
        token=x_goog_channel_token,
        resource_state=x_goog_resource_state,
        message_number=x_goog_message_number,
    )
    try:
        ack = services.handle_push.execute(notice)
    except PushRejectedError as exc:
        raise ApiError(401, "unauthorized", str(exc)) from exc
    return WebhookOut(result=ack.result, reason=ack.reason)
