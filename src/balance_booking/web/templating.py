"""Jinja2 templates and static files of the HTML pages (built by the app factory, not at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

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
    return Jinja2Templates(env=env, context_processors=[page_context])


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


TemplatesDep = Annotated[Jinja2Templates, Depends(_templates)]
