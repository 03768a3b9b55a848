"""The one logging choke point: structlog JSON lines, stdlib logging routed through it, redaction.

Every line, ours (structlog) or a library's (uvicorn, httpx, sqlalchemy, alembic through stdlib
logging), passes the same `redact_secrets` processor just before it is rendered, so no logger
needs to remember what not to log. See docs/admin-auth.md for the rules.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

# Keys whose values are never logged, compared case-insensitively with "-" read as "_".
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "code",
        "code_verifier",
        "client_secret",
        "password",
        "password_hash",
        "authorization",
        "proxy_authorization",
        "token",
        "secret",
        "cookie",
        "set_cookie",
        "csrf_token",
        "x_csrf_token",
        "state",
        "session_id",
        "manage_token",
        "api_key",
        "bb_admin",
    }
)
# Any key ending like this is a secret too (e.g. `push_channel_token`, `webhook_secret`).
_SECRET_SUFFIXES = ("_token", "_secret", "_password")

# Authorization values have their own rules below (they carry a scheme before the secret).
_NAMES = "|".join(
    re.escape(key).replace("_", "[_-]")
    for key in sorted(SECRET_KEYS - {"authorization", "proxy_authorization"}, key=len, reverse=True)
)
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?<![\w-])
    (?P<q>["']?)
    (?P<key>{_NAMES}|[\w-]*?(?:token|secret|password|passwd))
    (?P=q)
    \s*[:=]\s*
    (?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'&,;)}}\]]+))
    """
)
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Google access tokens, refresh tokens and authorization codes, wherever they appear.
    (re.compile(r"ya29\.[\w.~+/=-]+"), REDACTED),
    (re.compile(r"(?<![\w/])1//[\w.~+/=-]{8,}"), REDACTED),
    (re.compile(r"(?<![\w/])4/0[\w.~+/=-]{8,}"), REDACTED),
    # Our own admin API tokens ("bb_" + 43 characters).
    (re.compile(r"(?<![\w-])bb_[\w-]{32,}"), REDACTED),
    # Credentials after an auth scheme: "Authorization: Bearer x", "Basic x".
    (re.compile(r"(?i)\b(bearer|basic)(\s+)(?!\[REDACTED\])[\w.~+/=-]+"), rf"\1\2{REDACTED}"),
    # Any other Authorization value: "Authorization: Token x" or "Authorization: x".
    (
        re.compile(
            r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:[a-z][\w-]*\s+)?+)"
            r"(?!\[REDACTED\])[^\s\"',;}\]]+"
        ),
        rf"\1{REDACTED}",
    ),
)
_AUTH_SCHEMES = frozenset({"bearer", "basic"})


def _redact_pair(match: re.Match[str]) -> str:
    group = next(name for name in ("dq", "sq", "bare") if match[name] is not None)
    value = match[group]
    if (
        not value
        or value.startswith(REDACTED[:-1])  # a shape rule got there first
        or value.lower() in _AUTH_SCHEMES  # the scheme rule has redacted what follows it
        or (match["key"].lower() == "code" and value.isdigit())  # a status, not an OAuth code
    ):
        return match[0]
    start, end = match.span(group)
    offset = match.start()
    return match[0][: start - offset] + REDACTED + match[0][end - offset :]


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    name = key.strip().lower().replace("-", "_")
    return name in SECRET_KEYS or name.endswith(_SECRET_SUFFIXES)


def scrub(text: str) -> str:
    """Replace every secret-looking part of a free-form string."""
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return _KEY_VALUE.sub(_redact_pair, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _is_secret_key(key) and item is not None else _redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return scrub(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, int | float | bool) or value is None:
        return value
    # Anything else is rendered by the JSON renderer with str(); scrub that text now.
    return scrub(str(value))


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The redaction processor: secret keys (at any depth) and secret shapes in any string."""
    redacted: dict[str, Any] = _redact_value(event_dict)
    return redacted


def _drop_color_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """uvicorn passes an ANSI-coloured copy of some messages as `extra`; the plain one is enough."""
    event_dict.pop("color_message", None)
    return event_dict


class QueryStringDropper(logging.Filter):
    """uvicorn's access lines log the path without its query string: a query can carry a
    client's e-mail address (the admin's data-request look-up) or a manage token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, mark, _query = args[2].partition("?")
            record.args = (*args[:2], path + ("?…" if mark else ""), *args[3:])
        return True


def configure_logging(level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """Send every log line, structlog's and stdlib's, through one JSON pipeline with redaction.

    Owns the root logger: its handlers are replaced by one JSON handler on `stream` (stderr).
    """
    numeric_level = logging.getLevelNamesMapping().get(level.strip().upper())
    if numeric_level is None:
        raise ValueError(f"Unknown log level {level!r}")
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: configure_logging may run again (tests, a re-exec) and must take effect.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Our code logs through stdlib with `extra={...}`: those fields are the point of the line
        # (ids, errors), so they are kept; the standard fields added after them win a clash.
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), _drop_color_message, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            # Last before rendering: it sees the final text, tracebacks included.
            redact_secrets,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    # Libraries that install their own handlers would bypass the pipeline; send them to root.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore", "alembic"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryStringDropper) for f in access.filters):
        access.addFilter(QueryStringDropper())
    # Alembic announces every revision at INFO on each embedded start; only DEBUG wants that.
    if numeric_level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)
