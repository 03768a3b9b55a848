"""The sink's HTTP side: the inbox page, one page per message, and the JSON control API."""

from __future__ import annotations

from typing import Any

import fastapi
from fastapi import HTTPException
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, StrictBool

from balance_booking.emulators.mail_sink.inbox import Inbox, StoredMessage

# The HTML part is the sender's markup: it runs in a sandbox with no scripts, forms or
# same-origin access, both by the iframe's attribute and by this header on the part itself.
HTML_PART_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


class OutageBody(BaseModel):
    down: StrictBool


class RejectBody(BaseModel):
    addresses: list[str]


def create_mail_app(inbox: Inbox, *, smtp_url: str) -> fastapi.FastAPI:
    """The inbox page at `/` and the JSON API under `/_mail/` over `inbox`."""
    templates = Environment(
        loader=PackageLoader("balance_booking.emulators.mail_sink", "templates"),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )

    def page(name: str, **context: Any) -> HTMLResponse:
        html = templates.get_template(name).render(smtp_url=smtp_url, down=inbox.down, **context)
        return HTMLResponse(html)

    def found(message_id: str) -> StoredMessage:
        message = inbox.get(message_id)
        if message is None:
            raise HTTPException(404, "no such message (cleared, or pushed out by newer ones)")
        return message

    app = fastapi.FastAPI(
        title="Mail sink",
        docs_url="/_mail/docs",
        redoc_url=None,
        openapi_url="/_mail/openapi.json",
    )

    @app.get("/", response_class=HTMLResponse)
    def inbox_page() -> HTMLResponse:
        return page("inbox.html", messages=list(reversed(inbox.messages())))

    @app.get("/messages/{message_id}", response_class=HTMLResponse)
    def message_page(message_id: str) -> HTMLResponse:
        return page("message.html", message=found(message_id))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_mail/messages")
    def list_messages() -> list[dict[str, Any]]:
        """Every message kept, oldest first."""
        return [message.as_json() for message in inbox.messages()]

    @app.delete("/_mail/messages", status_code=204)
    def clear_messages() -> Response:
        inbox.clear()
        return Response(status_code=204)

    @app.get("/_mail/messages/{message_id}")
    def get_message(message_id: str) -> dict[str, Any]:
        return found(message_id).as_json()

    @app.get("/_mail/messages/{message_id}/raw")
    def raw_message(message_id: str) -> Response:
        return Response(found(message_id).raw, media_type="message/rfc822")

    @app.get("/_mail/messages/{message_id}/html")
    def html_part(message_id: str) -> Response:
        message = found(message_id)
        if message.html is None:
            raise HTTPException(404, "the message has no HTML part")
        return HTMLResponse(message.html, headers=HTML_PART_HEADERS)

    @app.get("/_mail/messages/{message_id}/attachments/{index}")
    def attachment(message_id: str, index: int) -> Response:
        attachments = found(message_id).attachments
        if not 0 <= index < len(attachments):
            raise HTTPException(404, "no such attachment")
        part = attachments[index]
        return Response(
            part.content,
            media_type=part.content_type,
            headers={"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"},
        )

    @app.get("/_mail/outage")
    def get_outage() -> dict[str, bool]:
        return {"down": inbox.down}

    @app.post("/_mail/outage")
    def set_outage(body: OutageBody) -> dict[str, bool]:
        inbox.down = body.down
        return {"down": inbox.down}

    @app.get("/_mail/reject")
    def get_rejected() -> dict[str, list[str]]:
        return {"addresses": inbox.rejected()}

    @app.post("/_mail/reject")
    def set_rejected(body: RejectBody) -> dict[str, list[str]]:
        return {"addresses": inbox.set_rejected(body.addresses)}

    @app.post("/_mail/reset", status_code=204)
    def reset() -> Response:
        inbox.reset()
        return Response(status_code=204)

    return app
