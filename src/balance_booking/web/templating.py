"""Jinja2 templates and static files of the HTML pages (built by the app factory, not at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from balance_booking.application.integration import CalendarWarning
from balance_booking.web.i18n import install_i18n, load_translations, page_context

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")


def build_templates() -> Jinja2Templates:
    """Templates with HTML autoescaping and per-request translations (web/i18n)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    # {% trans %} blocks are written across lines; the catalogs hold them on one line.
    env.policies["ext.i18n.trimmed"] = True
    install_i18n(env, load_translations())
    env.globals["calendar_warning"] = calendar_warning
    return Jinja2Templates(env=env, context_processors=[page_context])


@pass_context
def calendar_warning(context: Context) -> CalendarWarning | None:
    """`{{ calendar_warning() }}` in admin templates: computed on first use, then kept for the
    rest of this request (admin_base.html and a page may both ask)."""
    request: Request = context["request"]
    if not hasattr(request.state, "calendar_warning"):
        request.state.calendar_warning = request.app.state.services.calendar_warning.execute()
    warning: CalendarWarning | None = request.state.calendar_warning
    return warning


async def _templates(request: Request) -> Jinja2Templates:  # async: no thread-pool hop
    templates: Jinja2Templates = request.app.state.templates
    return templates


TemplatesDep = Annotated[Jinja2Templates, Depends(_templates)]
