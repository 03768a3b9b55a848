"""Languages of the pages: Russian first, English available; Babel catalogs compiled at start-up.

The language of a request is, in order: `?lang=` (which also sets the `bb_lang` cookie), the
cookie, the browser's Accept-Language, Russian. Templates translate with `_()` / `ngettext()`
(Jinja's i18n extension, new style) and format dates and times with Babel.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from balance_booking.web.zones import zone_label

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
COOKIE = "bb_lang"
CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"
_COOKIE_MAX_AGE = 365 * 24 * 3600
_LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}
_ACCEPT_ITEM = re.compile(
    r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$"
)


def load_translations() -> dict[str, Translations]:
    """Each language's catalog, compiled from its .po file in memory (no .mo files to go stale)."""
    catalogs: dict[str, Translations] = {}
    for lang in LANGUAGES:
        po_path = CATALOG_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain=DOMAIN)
        compiled = BytesIO()
        # Fuzzy entries are drafts: never shown (write_mo skips them by default).
        write_mo(compiled, catalog)
        compiled.seek(0)
        catalogs[lang] = Translations(compiled, domain=DOMAIN)
    return catalogs


def _from_accept_language(header: str) -> str | None:
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header.split(",")[:20]):
        match = _ACCEPT_ITEM.match(item)
        if match is None:
            continue
        lang = match.group(1).lower()
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if lang in LANGUAGES and quality > 0:
            # Highest quality wins; on a tie, the one the browser listed first.
            candidate = (quality, -position, lang)
            if best is None or candidate > best:
                best = candidate
    return None if best is None else best[2]


def negotiate(*, query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language for these request inputs."""
    for explicit in (query, cookie):
        if explicit in LANGUAGES:
            return explicit
    if accept_language:
        return _from_accept_language(accept_language) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def request_language(request: Request) -> str:
    """The language chosen for this request (set by LanguageMiddleware; negotiated otherwise)."""
    lang = getattr(request.state, "lang", None)
    if lang in LANGUAGES:
        return str(lang)
    return negotiate(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(COOKIE),
        accept_language=request.headers.get("accept-language"),
    )


class LanguageMiddleware:
    """Pure ASGI: decides the language once per request; `?lang=` is remembered in a cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        asked = request.query_params.get("lang")
        lang = negotiate(
            query=asked,
            cookie=request.cookies.get(COOKIE),
            accept_language=request.headers.get("accept-language"),
        )
        scope.setdefault("state", {})["lang"] = lang
        remember = asked in LANGUAGES and request.cookies.get(COOKIE) != asked

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    # The same URL answers in another language for another visitor.
                    headers.add_vary_header("Accept-Language")
                    headers.add_vary_header("Cookie")
                    headers.setdefault("Content-Language", lang)
                if remember:
                    headers.append(
                        "Set-Cookie",
                        f"{COOKIE}={lang}; Max-Age={_COOKIE_MAX_AGE}; Path=/; SameSite=Lax",
                    )
            await send(message)

        await self._app(scope, receive, send_with_language)


@dataclass(frozen=True, slots=True)
class LanguageLink:
    code: str
    name: str
    href: str
    current: bool


def language_links(request: Request) -> list[LanguageLink]:
    """Links to this same page in each language (the other query parameters are kept)."""
    current = request_language(request)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    links = []
    for code in LANGUAGES:
        query = urlencode([*params, ("lang", code)])
        links.append(
            LanguageLink(
                code=code,
                name=_LANGUAGE_NAMES[code],
                href=f"{request.url.path}?{query}",
                current=code == current,
            )
        )
    return links


@functools.cache
def time_pattern(lang: str) -> str:
    """The language's short time pattern from CLDR: `HH:mm` (ru) or `h:mm a` (en)."""
    return str(Locale.parse(lang).time_formats["short"].pattern)


def hour_cycle(lang: str) -> str:
    """`h12` where the language's clock is 12-hour (en), `h23` otherwise (ru): the default of the
    pages' 12/24-hour toggle."""
    return "h12" if "h" in time_pattern(lang) or "K" in time_pattern(lang) else "h23"


def page_context(request: Request) -> dict[str, Any]:
    """What every template sees: the language, its clock convention and the language switch."""
    lang = request_language(request)
    return {"lang": lang, "hour_cycle": hour_cycle(lang), "language_links": language_links(request)}


def install_i18n(env: Environment, translations: dict[str, Translations]) -> None:
    """Per-request gettext for Jinja (`_`, `gettext`, `ngettext`) and a Babel date filter."""

    def _catalog(context: Context) -> Translations:
        request: Request = context["request"]
        return translations[request_language(request)]

    @pass_context
    def gettext(context: Context, message: str) -> str:
        return _catalog(context).gettext(message)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int) -> str:
        return _catalog(context).ngettext(singular, plural, count)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]

    @pass_context
    def datetime_filter(
        context: Context, value: datetime | None, zone: str | None = None, pattern: str = "long"
    ) -> str:
        """`{{ when | when_local(zone) }}`: an instant in `zone`, in the page's language."""
        if value is None:
            return "—"
        tz = ZoneInfo(zone or "UTC")
        lang = request_language(context["request"])
        # The clock follows the language (CLDR): "вторник, 1 декабря 2026, 10:00" or
        # "Tuesday, 1 December 2026, 10:00 AM".
        clock = time_pattern(lang)
        patterns = {
            "long": f"EEEE, d MMMM y, {clock}",
            "short": f"d MMM y, {clock}",
            "time": clock,
        }
        return format_datetime(value, patterns.get(pattern, pattern), tzinfo=tz, locale=lang)

    @pass_context
    def zone_filter(context: Context, zone: str, at: datetime) -> str:
        """`{{ zone | zone_label(at) }}`: "Нью-Йорк (UTC−05:00)" in the page's language."""
        return zone_label(zone, request_language(context["request"]), at=at)

    env.filters["when_local"] = datetime_filter
    env.filters["zone_label"] = zone_filter
