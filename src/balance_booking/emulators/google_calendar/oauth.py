"""OAuth 2.0 routes on Google's paths: authorize + consent, token, revoke, userinfo, tokeninfo."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from balance_booking.emulators.google_calendar.errors import OAuthError
from balance_booking.emulators.google_calendar.oauth_service import (
    AuthorizePageError,
    OAuthService,
    Principal,
    TokenRefusedError,
)
from balance_booking.emulators.google_calendar.pages import Pages
from balance_booking.emulators.google_calendar.responses import oauth_json
from balance_booking.emulators.google_calendar.store import Store

CONSENT_PATH = "/o/oauth2/v2/auth/consent"


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError(401, "invalid_client", "Unauthorized") from exc
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 form-encodes both parts; requests-oauthlib sends them raw. Accept either.
    return unquote_plus(client_id), unquote_plus(secret)


async def _form(request: Request) -> dict[str, str]:
    """Token/revoke parameters from the form body (or JSON, which Google also takes) and query."""
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        raw = await request.body()
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise OAuthError(400, "invalid_request", "Invalid JSON payload received.") from exc
        if isinstance(data, dict):
            params.update({str(k): str(v) for k, v in data.items()})
    else:
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _userinfo_principal(oauth: OAuthService, request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    token = (
        value.strip() if scheme.lower() == "bearer" else request.query_params.get("access_token")
    )
    try:
        return oauth.principal(token)
    except TokenRefusedError as exc:
        raise OAuthError(
            401,
            "invalid_request",
            "Invalid Credentials",
            headers={
                "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
            },
        ) from exc


def build_oauth_router(*, oauth: OAuthService, store: Store, pages: Pages) -> APIRouter:
    router = APIRouter()

    def error_page(error: AuthorizePageError) -> HTMLResponse:
        html = pages.error(status=error.status, error=error.error, description=error.description)
        return HTMLResponse(html, status_code=error.status)

    @router.get("/o/oauth2/v2/auth")
    @router.get("/o/oauth2/auth")
    def authorize(request: Request) -> Response:
        try:
            pending = oauth.begin(dict(request.query_params))
        except AuthorizePageError as error:
            return error_page(error)
        redirect = oauth.silent_answer(pending) or oauth.auto_decision(pending)
        if redirect is not None:
            return RedirectResponse(redirect, status_code=302)
        with store.read() as state:
            client_name = state.clients[pending.client_id].name
            users = sorted(state.users)
        hint = pending.login_hint if pending.login_hint and "@" in pending.login_hint else None
        html = pages.consent(
            pending=pending,
            client_name=client_name,
            users=users,
            email=hint or oauth.default_email,
            action=CONSENT_PATH,
        )
        return HTMLResponse(html)

    @router.post(CONSENT_PATH)
    async def consent(request: Request) -> Response:
        form = await request.form()
        request_id = str(form.get("request_id", ""))
        pending = oauth.pending(request_id)
        if pending is None:
            return error_page(
                AuthorizePageError(
                    400, "invalid_request", "This sign-in request has expired. Start again."
                )
            )
        if form.get("action") != "allow":
            url = await run_in_threadpool(oauth.deny, pending)
            return RedirectResponse(url, status_code=302)
        email = str(form.get("email") or pending.login_hint or oauth.default_email).strip().lower()
        if "@" not in email:
            return error_page(AuthorizePageError(400, "invalid_request", "Enter an email address."))
        # Browsers send the ticked boxes. A form with no `scope` field at all comes from a client
        # that does not model checkboxes (simple test harnesses): treat it as "everything".
        chosen: list[str] | None = [str(v) for v in form.getlist("scope")] or None
        url = await run_in_threadpool(oauth.approve, pending, email=email, chosen=chosen)
        return RedirectResponse(url, status_code=302)

    @router.post("/token")
    @router.post("/o/oauth2/token")
    async def token(request: Request) -> Response:
        basic = _basic_credentials(request)
        params = await _form(request)
        result = await run_in_threadpool(oauth.token, params, basic)
        return oauth_json(result)

    @router.post("/revoke")
    @router.post("/o/oauth2/revoke")
    @router.get("/o/oauth2/revoke")
    async def revoke(request: Request) -> Response:
        params = await _form(request) if request.method == "POST" else dict(request.query_params)
        value = params.get("token")
        if not value:
            raise OAuthError(400, "invalid_request", "Missing required parameter: token")
        await run_in_threadpool(oauth.revoke, value)
        return oauth_json({})

    @router.get("/tokeninfo")
    @router.post("/tokeninfo")
    @router.get("/oauth2/v3/tokeninfo")
    async def tokeninfo(request: Request) -> Response:
        params = await _form(request) if request.method == "POST" else dict(request.query_params)
        value = params.get("access_token")
        if not value:
            raise OAuthError(400, "invalid_request", "Missing required parameter: access_token")
        return oauth_json(oauth.tokeninfo(value))

    @router.get("/v1/userinfo")
    @router.get("/oauth2/v3/userinfo")
    def userinfo(request: Request) -> Response:
        principal = _userinfo_principal(oauth, request)
        return oauth_json(oauth.userinfo(principal, legacy=False))

    @router.get("/oauth2/v2/userinfo")
    @router.get("/oauth2/v1/userinfo")
    def userinfo_legacy(request: Request) -> Response:
        principal = _userinfo_principal(oauth, request)
        return oauth_json(oauth.userinfo(principal, legacy=True))

    @router.get("/.well-known/openid-configuration")
    def discovery(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        document: dict[str, Any] = {
            "issuer": "https://accounts.google.com",
            "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/v1/userinfo",
            "revocation_endpoint": f"{base}/revoke",
            "jwks_uri": f"{base}/oauth2/v3/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        }
        return oauth_json(document)

    @router.get("/oauth2/v3/certs")
    def certs() -> Response:
        # id_tokens are HS256 with the client secret; there is no public key to publish.
        return oauth_json({"keys": []})

    return router
