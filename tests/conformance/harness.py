"""Typed helpers for the conformance suite: the emulator's control API, OAuth through Google's
own libraries, Google's error wire format, and event builders."""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit
from zoneinfo import ZoneInfo

import google_auth_httplib2
import httplib2
import httpx
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import Resource, build
from googleapiclient.errors import HttpError

from balance_booking.emulators.google_calendar.app import EmulatorConfig, create_emulator_app
from tests.support.live_server import serve_app

SCOPE_CALENDAR = "https://www.googleapis.com/auth/calendar"
SCOPE_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
SCOPE_EVENTS = "https://www.googleapis.com/auth/calendar.events"
SCOPE_EVENTS_OWNED = "https://www.googleapis.com/auth/calendar.events.owned"
SCOPE_FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
SCOPE_USERINFO_EMAIL = "https://www.googleapis.com/auth/userinfo.email"

OWNER_EMAIL = "owner@example.com"
OWNER_TIMEZONE = "Europe/Moscow"
MSK = ZoneInfo(OWNER_TIMEZONE)
UTC = ZoneInfo("UTC")

# Never contacted: the code is read from the emulator's redirect, as a browser would be sent there.
REDIRECT_URI = "http://127.0.0.1:9/oauth2/callback"


class _Endpoint:
    """One of Google's endpoint paths, read off an `OAuthClient` as a URL on its emulator."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __get__(self, client: OAuthClient, owner: type[OAuthClient]) -> str:
        return f"{client.base}{self.path}"


@dataclass(frozen=True)
class OAuthClient:
    """An OAuth client registered with one running emulator, plus Google's endpoint paths on it.

    It also owns the HTTP sessions of the flows and Calendar clients made through it (httplib2
    and requests keep sockets open until closed); `close()` releases them.
    """

    base: str
    client_id: str = "conformance-client.apps.googleusercontent.com"
    client_secret: str = "conformance-secret"
    redirect_uri: str = REDIRECT_URI
    name: str = "Conformance Suite"
    resources: ExitStack = field(default_factory=ExitStack, compare=False, repr=False)

    auth_uri = _Endpoint("/o/oauth2/v2/auth")
    token_uri = _Endpoint("/token")
    revoke_uri = _Endpoint("/revoke")
    userinfo_uri = _Endpoint("/v1/userinfo")

    def client_config(self, *, client_secret: str | None = None) -> dict[str, Any]:
        """The `{"web": {...}}` document google-auth-oauthlib reads from client_secrets.json."""
        return {
            "web": {
                "client_id": self.client_id,
                "client_secret": self.client_secret if client_secret is None else client_secret,
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
                "redirect_uris": [self.redirect_uri],
            }
        }

    def flow(
        self,
        scopes: Sequence[str],
        *,
        client_secret: str | None = None,
        code_verifier: str | None = None,
        autogenerate_code_verifier: bool = True,
    ) -> Flow:
        flow = Flow.from_client_config(
            self.client_config(client_secret=client_secret),
            scopes=list(scopes),
            redirect_uri=self.redirect_uri,
            code_verifier=code_verifier,
            autogenerate_code_verifier=autogenerate_code_verifier,
        )
        self.resources.callback(flow.oauth2session.close)
        return flow

    def calendar(self, credentials: Credentials) -> Resource:
        """The discovery-built Calendar client (bundled discovery document, no network)."""
        return self._build(credentials=credentials)

    def calendar_with_token(self, token: str) -> Resource:
        """A Calendar client that sends `token` as is and never refreshes (to see a raw 401)."""
        http = google_auth_httplib2.AuthorizedHttp(
            Credentials(token=token), http=httplib2.Http(), refresh_status_codes=()
        )
        return self._build(http=http)

    def authorized_calendar(self, scopes: Sequence[str]) -> Resource:
        """A Calendar client on fresh credentials for `scopes` (consent + code exchange)."""
        return self.calendar(obtain_credentials(self, scopes))

    def _build(self, **auth: Any) -> Resource:
        service = build(
            "calendar",
            "v3",
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": f"{self.base}/calendar/v3/"},
            **auth,
        )
        self.resources.callback(service.close)
        return service

    def close(self) -> None:
        self.resources.close()


class EmulatorControl:
    """The emulator's `/_emulator/` control API (not Google's protocol; see docs/gcal-emulator.md)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._http = browser()
        self._http.base_url = httpx.URL(f"{base}/_emulator/")

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=payload)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        self._send("POST", "reset")

    def settings(self, **changes: Any) -> dict[str, Any]:
        """POST /_emulator/settings with `changes` (none: GET); the settings now in force."""
        result: dict[str, Any] = (
            self._send("POST", "settings", changes) if changes else self._send("GET", "settings")
        )
        return result

    def new_client(self) -> OAuthClient:
        """Reset the emulator and register a fresh OAuth client with it (caller closes it)."""
        self.reset()
        client = OAuthClient(base=self.base)
        self.register_client(client)
        return client

    def register_client(self, client: OAuthClient) -> None:
        self._send(
            "POST",
            "clients",
            {
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "redirect_uris": [client.redirect_uri],
                "name": client.name,
            },
        )

    def add_fault(
        self,
        *,
        status: int | None = None,
        path_prefix: str | None = None,
        method: str | None = None,
        reason: str | None = None,
        retry_after: int | None = None,
        latency_ms: int | None = None,
        count: int | None = None,
        **extra: Any,
    ) -> None:
        spec: dict[str, Any] = {
            "status": status,
            "path_prefix": path_prefix,
            "method": method,
            "reason": reason,
            "retry_after": retry_after,
            "latency_ms": latency_ms,
            "count": count,
            **extra,
        }
        self._send("POST", "faults", {k: v for k, v in spec.items() if v is not None})

    def clear_faults(self) -> None:
        self._send("DELETE", "faults")

    def set_outage(self, *, down: bool) -> None:
        self._send("POST", "outage", {"down": down})

    def revoke_user(self, email: str) -> None:
        self._send("POST", "revoke", {"email": email})

    def advance_clock(self, seconds: int) -> None:
        self._send("POST", "clock", {"advance_seconds": seconds})

    def expire_sync_tokens(self) -> None:
        self._send("POST", "expire-sync-tokens")

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._send("GET", "state")
        return result


@contextmanager
def serve_emulator(**config: Any) -> Iterator[str]:
    """Serve an emulator with `EmulatorConfig(**config)` (auto consent unless told otherwise) on
    loopback; yields its base URL."""
    config.setdefault("auto_consent", True)
    with serve_app(create_emulator_app(EmulatorConfig(**config))) as base:
        yield base


@contextmanager
def running_emulator(**config: Any) -> Iterator[tuple[OAuthClient, EmulatorControl]]:
    """A further emulator (see `serve_emulator`) with a registered client and its control API."""
    with serve_emulator(**config) as base:
        control = EmulatorControl(base)
        client = control.new_client()
        try:
            yield client, control
        finally:
            client.close()
            control.close()


def redirect_query(location: str) -> dict[str, str]:
    """The single-valued query parameters of a redirect target."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def browser() -> httpx.Client:
    """A plain HTTP client for the loopback emulator.

    Its TLS context has no CA bundle: loading certifi costs ~0.2 s per client, the emulator is
    plain http, and a context that trusts nothing cannot weaken anything.
    """
    return httpx.Client(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), timeout=10)


def follow_consent(auth_url: str) -> httpx.Response:
    """Open the authorization URL as a browser would, without following the final redirect."""
    with browser() as client:
        return client.get(auth_url, follow_redirects=False)


def authorize(flow: Flow, **params: str) -> dict[str, str]:
    """Run the auto-consent step for `flow` and return the callback's query (`code`, `scope`, ...)."""
    url, state = flow.authorization_url(**params)
    response = follow_consent(url)
    assert response.is_redirect, (response.status_code, response.text[:500])
    location = response.headers["location"]
    assert location.startswith(flow.redirect_uri + "?"), location
    query = redirect_query(location)
    assert query.get("state") == state, query
    return query


def obtain_credentials(
    client: OAuthClient, scopes: Sequence[str], *, prompt: str = "consent"
) -> Credentials:
    """Consent + code exchange with PKCE through google-auth-oauthlib; returns its Credentials."""
    flow = client.flow(scopes)
    query = authorize(flow, prompt=prompt)
    flow.fetch_token(code=query["code"])
    credentials: Credentials = flow.credentials
    return credentials


def error_body(err: HttpError) -> dict[str, Any]:
    """The `error` object of a Google JSON error body (Calendar v3 shape, protocol doc 5.1)."""
    body = json.loads(err.content.decode("utf-8"))
    assert isinstance(body, dict), body
    error: dict[str, Any] = body["error"]
    return error


def assert_http_error(
    err: HttpError, *, status: int, reason: str | Collection[str], domain: str | None = None
) -> dict[str, Any]:
    """Check status and `error.errors[0].reason` as google-api-python-client sees them."""
    error = error_body(err)
    reasons = {reason} if isinstance(reason, str) else set(reason)
    assert err.status_code == status, (err.status_code, error)
    assert err.resp.status == status
    assert error["code"] == status, error
    assert error["errors"], error
    assert error["errors"][0]["reason"] in reasons, error
    if domain is not None:
        assert error["errors"][0]["domain"] == domain, error
    # The library takes `.reason` from error.message and `.error_details` from error.details
    # when present, else error.errors.
    assert err.reason, error
    assert err.reason == error["message"].strip(), (err.reason, error)
    assert err.error_details == error.get("details", error["errors"]), err.error_details
    return error


def new_event_id() -> str:
    """A valid client-supplied event id (hex digits are a subset of base32hex)."""
    return uuid.uuid4().hex


def msk(day: str, hhmm: str) -> datetime:
    """An instant given as a Moscow wall-clock date and time."""
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=MSK)


def rfc3339(moment: datetime) -> str:
    assert moment.tzinfo is not None
    return moment.isoformat()


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def timed_event(
    start: datetime, end: datetime, *, event_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """An Event resource body with `dateTime` start/end."""
    body: dict[str, Any] = {
        "summary": fields.pop("summary", "conformance"),
        "start": {"dateTime": rfc3339(start), "timeZone": OWNER_TIMEZONE},
        "end": {"dateTime": rfc3339(end), "timeZone": OWNER_TIMEZONE},
        **fields,
    }
    if event_id is not None:
        body["id"] = event_id
    return body


def msk_event(day: str, hhmm: str, *, minutes: int = 60, **fields: Any) -> dict[str, Any]:
    """A timed event from a Moscow wall-clock start, `minutes` long, with a fresh client-supplied
    id unless `event_id` is given."""
    start = msk(day, hhmm)
    fields.setdefault("event_id", new_event_id())
    return timed_event(start, start + timedelta(minutes=minutes), **fields)


def focus_time_event(start: datetime, end: datetime) -> dict[str, Any]:
    return timed_event(
        start,
        end,
        eventType="focusTime",
        focusTimeProperties={"autoDeclineMode": "declineNone", "chatStatus": "doNotDisturb"},
    )


def out_of_office_event(start: datetime, end: datetime) -> dict[str, Any]:
    return timed_event(
        start,
        end,
        eventType="outOfOffice",
        outOfOfficeProperties={"autoDeclineMode": "declineNone"},
    )


def working_location_event(day: str, next_day: str, **fields: Any) -> dict[str, Any]:
    """An all-day home-office working-location event (public and transparent, as Google wants)."""
    return {
        "start": {"date": day},
        "end": {"date": next_day},
        "eventType": "workingLocation",
        "visibility": "public",
        "transparency": "transparent",
        "workingLocationProperties": {"type": "homeOffice", "homeOffice": {}},
        **fields,
    }


def event_start(event: dict[str, Any]) -> datetime:
    return parse_instant(event["start"]["dateTime"])


def event_end(event: dict[str, Any]) -> datetime:
    return parse_instant(event["end"]["dateTime"])


def list_all(service: Resource, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Follow events.list pages with `list_next`; return all items and the last page."""
    request = service.events().list(**params)
    items: list[dict[str, Any]] = []
    page: dict[str, Any] = {}
    while request is not None:
        page = request.execute()
        items.extend(page.get("items", []))
        request = service.events().list_next(request, page)
    return items, page


Interval = tuple[datetime, datetime]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of half-open intervals, touching ones joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def busy_intervals(response: dict[str, Any], calendar_id: str) -> list[Interval]:
    return [
        (parse_instant(block["start"]), parse_instant(block["end"]))
        for block in response["calendars"][calendar_id].get("busy", [])
    ]


@dataclass
class HtmlForm:
    """One `<form>` of a page: where it posts and what a click on a given button submits."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, label)
    text: str = ""

    def submission(self, label: str) -> dict[str, str]:
        """The form data sent by clicking the button whose label contains `label`."""
        for name, value, button_label in self.buttons:
            if label.lower() in button_label.lower():
                data = dict(self.fields)
                if name:
                    data[name] = value
                return data
        raise AssertionError(f"no {label!r} button in {self.buttons}")


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[HtmlForm] = []
        self._button: list[str] | None = None
        self._button_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(
                HtmlForm(
                    action=attributes.get("action", ""),
                    method=attributes.get("method", "get").upper(),
                )
            )
        elif not self.forms:
            return
        elif tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind == "submit":
                self.forms[-1].buttons.append(
                    (
                        attributes.get("name", ""),
                        attributes.get("value", ""),
                        attributes.get("value", ""),
                    )
                )
            elif kind in {"hidden", "text"} and attributes.get("name"):
                self.forms[-1].fields[attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and attributes.get("type", "submit").lower() == "submit":
            self._button = [attributes.get("name", ""), attributes.get("value", "")]
            self._button_text = []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button_text.append(data)
        if self.forms:
            self.forms[-1].text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value = self._button
            self.forms[-1].buttons.append((name, value, "".join(self._button_text).strip()))
            self._button = None


def parse_forms(page_url: str, html: str) -> list[HtmlForm]:
    """Forms of an HTML page with absolute actions."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = urljoin(page_url, form.action or page_url)
    return parser.forms
