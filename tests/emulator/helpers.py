"""A small test driver for the emulator: client registration, consent + code exchange, calls."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

CAL = "https://www.googleapis.com/auth/calendar"
EVENTS = f"{CAL}.events"
FREEBUSY = f"{CAL}.freebusy"
READONLY = f"{CAL}.readonly"
CLIENT_ID = "test-client.apps.googleusercontent.com"
CLIENT_SECRET = "test-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"
EVENTS_PATH = "/calendars/primary/events"  # under /calendar/v3, as `Emulator.api` calls it


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def wait_for(predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@dataclass
class Emulator:
    base: str
    http: httpx.Client

    def register_client(
        self,
        client_id: str = CLIENT_ID,
        secret: str = CLIENT_SECRET,
        redirect_uris: list[str] | None = None,
        name: str = "Balance booking",
    ) -> None:
        response = self.http.post(
            "/_emulator/clients",
            json={
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": redirect_uris or [REDIRECT_URI],
                "name": name,
            },
        )
        assert response.status_code == 201, response.text

    def authorize(self, *, scopes: list[str], **params: str) -> httpx.Response:
        query = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": " ".join(scopes),
            "state": "xyz",
            **params,
        }
        return self.http.get("/o/oauth2/v2/auth", params=query)

    def code(self, *, scopes: list[str], verifier: str | None = None, **params: str) -> str:
        if verifier is not None:
            params.setdefault("code_challenge", s256(verifier))
            params.setdefault("code_challenge_method", "S256")
        response = self.authorize(scopes=scopes, **params)
        assert response.status_code == 302, response.text
        query = query_of(response.headers["location"])
        assert query["state"] == "xyz"
        return query["code"]

    def exchange(
        self, code: str, *, verifier: str | None = None, basic: bool = True
    ) -> httpx.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        if verifier is not None:
            form["code_verifier"] = verifier
        if basic:
            return self.http.post("/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
        form.update({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        return self.http.post("/token", data=form)

    def tokens(self, scopes: list[str] | None = None, **params: str) -> dict[str, Any]:
        """Register the client, consent (auto) and exchange: the token response."""
        self.register_client()
        verifier = secrets.token_urlsafe(48)
        params.setdefault("access_type", "offline")
        code = self.code(scopes=scopes or [CAL], verifier=verifier, **params)
        response = self.exchange(code, verifier=verifier)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def refresh(self, refresh_token: str, **extra: str) -> httpx.Response:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            **extra,
        }
        return self.http.post("/token", data=form)

    def api(self, token: str) -> httpx.Client:
        """A client for /calendar/v3 with the bearer token set (caller closes it)."""
        return httpx.Client(
            base_url=f"{self.base}/calendar/v3",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def seed(self, event: dict[str, Any], **where: str) -> dict[str, Any]:
        response = self.http.post("/_emulator/events", json={"event": event, **where})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def advance(self, seconds: float) -> None:
        self.http.post("/_emulator/clock", json={"advance_seconds": seconds}).raise_for_status()


def timed(start: str, end: str, **fields: Any) -> dict[str, Any]:
    return {"start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


def error_reason(response: httpx.Response) -> tuple[int, str]:
    body = response.json()["error"]
    assert body["code"] == response.status_code
    return response.status_code, body["errors"][0]["reason"]
