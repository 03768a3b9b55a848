"""The logging choke point: every secret kind, through structlog and stdlib, never reaches output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from balance_booking.adapters.logging_setup import REDACTED, configure_logging, scrub

ACCESS = "ya29.a0AfH6SMB-test_ACCESS.token~value"
REFRESH = "1//0gTestREFRESH-token_value123456"
CODE = "4/0AemuTestAUTHcode-value_1234567"
ID_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.SIGNATUREidtoken"
VERIFIER = "VerifierQx7_pkce-verifier-value-0123456789abcdefghijkl"
CLIENT_SECRET = "GOCSPX-client-SECRET-value"
PASSWORD = "Hunter2-correct-horse-PASSWORD"
SESSION_ID = "SessionIdCookieValue_abcdefghijklmnopqrstuvwxyz012"
CSRF = "CsrfTokenValue_abcdefghijklmnopqrstuvwxyz0123456789"
STATE = "StateValue_abcdefghijklmnopqrstuvwxyz"
API_TOKEN = "bb_ApiTokenValue_abcdefghijklmnopqrstuvwxyz0123"
OTHER_BEARER = "opaqueBearerValue123"
GENERIC_SECRET = "GenericSecretValue987"
CHANNEL_TOKEN = "ChannelTokenValue654"

SECRETS = [
    ACCESS,
    REFRESH,
    CODE,
    ID_TOKEN,
    VERIFIER,
    CLIENT_SECRET,
    PASSWORD,
    SESSION_ID,
    CSRF,
    STATE,
    API_TOKEN,
    OTHER_BEARER,
    GENERIC_SECRET,
    CHANNEL_TOKEN,
]
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore", "alembic")


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """Configure logging into a buffer; put the process's logging back afterwards."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved_libraries = {
        name: (list(lg.handlers), lg.level, lg.propagate)
        for name, lg in ((n, logging.getLogger(n)) for n in LIBRARY_LOGGERS)
    }
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for name, (handlers, level, propagate) in saved_libraries.items():
            library = logging.getLogger(name)
            library.handlers[:] = handlers
            library.setLevel(level)
            library.propagate = propagate


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def assert_no_secrets(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"leaked: {leaked}\n{text}"
    assert "ya29." not in text
    assert "1//" not in text
    assert "4/0A" not in text


def test_structlog_keys_at_any_depth_are_redacted(output: io.StringIO) -> None:
    log = structlog.get_logger("balance_booking.oauth")
    log.info(
        "token_exchanged",
        access_token=ACCESS,
        refresh_token=REFRESH,
        id_token=ID_TOKEN,
        code=CODE,
        code_verifier=VERIFIER,
        client_secret=CLIENT_SECRET,
        password=PASSWORD,
        authorization=f"Bearer {OTHER_BEARER}",
        token=API_TOKEN,
        secret=GENERIC_SECRET,
        cookie=f"bb_admin={SESSION_ID}",
        csrf_token=CSRF,
        state=STATE,
        push_channel_token=CHANNEL_TOKEN,
        request={
            "headers": {"Authorization": f"Bearer {ACCESS}", "X-CSRF-Token": CSRF},
            "form": {"grant_type": "refresh_token", "Refresh-Token": REFRESH},
            "history": [{"access_token": ACCESS}, ("code", CODE)],
        },
        expires_in=3599,
        scopes=["calendar.events", "calendar.freebusy"],
    )
    text = output.getvalue()
    assert_no_secrets(text)
    (line,) = lines(output)
    assert line["event"] == "token_exchanged"
    assert line["level"] == "info"
    assert line["logger"] == "balance_booking.oauth"
    assert line["timestamp"].endswith("Z")
    assert line["access_token"] == REDACTED
    assert line["request"]["headers"]["Authorization"] == REDACTED
    assert line["request"]["form"]["grant_type"] == "refresh_token"
    # Useful non-secret data survives.
    assert line["expires_in"] == 3599
    assert line["scopes"] == ["calendar.events", "calendar.freebusy"]


def test_secrets_inside_free_text_are_scrubbed(output: io.StringIO) -> None:
    log = structlog.get_logger("balance_booking.google")
    message = (
        f"exchange failed for code={CODE}&code_verifier={VERIFIER}&client_secret={CLIENT_SECRET}"
    )
    log.warning(message)
    log.info("raw body", body=json.dumps({"access_token": ACCESS, "refresh_token": REFRESH}))
    log.info("python repr", data=str({"password": PASSWORD, "state": STATE}))
    log.info("bare shapes", text=f"got {ACCESS} and {REFRESH} and {CODE} and {API_TOKEN}")
    log.info("headers", text=f"Authorization: Bearer {OTHER_BEARER}\nCookie: bb_admin={SESSION_ID}")
    log.info("form", text=f"csrf_token={CSRF}&token={API_TOKEN}&id_token={ID_TOKEN}")
    log.info("bytes", body=f"refresh_token={REFRESH}".encode())
    assert_no_secrets(output.getvalue())
    assert len(lines(output)) == 7


def test_stdlib_library_lines_go_through_the_same_redaction(output: io.StringIO) -> None:
    logging.getLogger("httpx").info(
        'HTTP Request: POST %s "HTTP/1.1 200 OK"',
        f"https://oauth2.googleapis.com/revoke?token={REFRESH}",
    )
    header_line = f"sending headers Authorization: Bearer {ACCESS} now"
    logging.getLogger("httpx").info(header_line)
    logging.getLogger("httpcore.http11").debug(
        "send_request_body.started request=%s", f"code={CODE}&client_secret={CLIENT_SECRET}"
    )
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        f"/api/admin/integrations/google-calendar/callback?state={STATE}&code={CODE}",
        "1.1",
        303,
    )
    logging.getLogger("sqlalchemy.engine.Engine").warning(
        "parameters %r", {"access_token_enc": "gAAAA", "password": PASSWORD}
    )
    logging.getLogger("balance_booking.anything").error("response %s", {"refresh_token": REFRESH})
    text = output.getvalue()
    assert_no_secrets(text)
    parsed = lines(output)
    assert [line["logger"] for line in parsed] == [
        "httpx",
        "httpx",
        "httpcore.http11",
        "uvicorn.access",
        "sqlalchemy.engine.Engine",
        "balance_booking.anything",
    ]
    assert all({"timestamp", "level", "event", "logger"} <= line.keys() for line in parsed)
    # The access line keeps the path and drops the query string (tokens, e-mail addresses).
    assert (
        '"GET /api/admin/integrations/google-calendar/callback?… HTTP/1.1" 303'
        in (parsed[3]["event"])
    )


def test_access_lines_never_carry_a_clients_email_from_a_query(output: io.StringIO) -> None:
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/admin/clients?email=anna.marker%40example.org&download=true",
        "1.1",
        200,
    )
    text = output.getvalue()
    assert "anna.marker" not in text
    assert '"GET /api/admin/clients?… HTTP/1.1" 200' in lines(output)[0]["event"]


def test_stdlib_extra_fields_are_kept_and_redacted(output: io.StringIO) -> None:
    # The application logs through stdlib with `extra=`; without its fields a line like this
    # says that something failed but not what (found in the soak's logs, docs/reliability.md).
    logging.getLogger("balance_booking.application.export").error(
        "outbox_parked",
        extra={
            "message_id": 7,
            "appointment_id": "3f2a",
            "error": f"400 badRequest refresh_token={REFRESH}",
            "channel_token": CHANNEL_TOKEN,
            "color_message": "\x1b[32mcoloured\x1b[0m",
        },
    )
    [line] = lines(output)
    assert (line["event"], line["message_id"], line["appointment_id"]) == (
        "outbox_parked",
        7,
        "3f2a",
    )
    assert line["error"].startswith("400 badRequest refresh_token=")
    assert line["channel_token"] == REDACTED
    assert (line["level"], line["logger"]) == ("error", "balance_booking.application.export")
    assert "color_message" not in line
    assert_no_secrets(output.getvalue())


def test_tracebacks_are_scrubbed(output: io.StringIO) -> None:
    def fail() -> None:
        raise ValueError(f"invalid_grant for refresh_token={REFRESH} access {ACCESS}")

    try:
        fail()
    except ValueError:
        structlog.get_logger("balance_booking.tokens").exception("refresh_failed")
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    assert_no_secrets(output.getvalue())
    structlog_line, stdlib_line = lines(output)
    assert "ValueError" in structlog_line["exception"]
    assert "ValueError" in stdlib_line["exception"]


def test_request_ids_are_bound_into_every_line(output: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        structlog.get_logger("balance_booking.web").info("inside")
        logging.getLogger("uvicorn.access").info("GET /healthz 200")
    structlog.get_logger("balance_booking.web").info("outside")
    first, second, third = lines(output)
    assert first["request_id"] == "req-1"
    assert second["request_id"] == "req-1"
    assert "request_id" not in third


def test_library_handlers_are_taken_over(output: io.StringIO) -> None:
    # What uvicorn's own logging config does: a private handler that would bypass redaction.
    private = io.StringIO()
    logging.getLogger("uvicorn.error").addHandler(logging.StreamHandler(private))
    logging.getLogger("uvicorn.error").propagate = False
    configure_logging("INFO", stream=output)
    logging.getLogger("uvicorn.error").info("Authorization: Bearer %s", ACCESS)
    assert private.getvalue() == ""
    assert_no_secrets(output.getvalue())
    assert lines(output)[-1]["logger"] == "uvicorn.error"


def test_level_filters_and_unknown_levels_are_refused(output: io.StringIO) -> None:
    configure_logging("warning", stream=output)
    structlog.get_logger("x").info("quiet")
    logging.getLogger("httpx").info("quiet too")
    structlog.get_logger("x").warning("loud")
    assert [line["event"] for line in lines(output)] == ["loud"]
    with pytest.raises(ValueError, match="Unknown log level"):
        configure_logging("chatty")


@pytest.mark.parametrize(
    "text",
    [
        "status_code=500",
        'error code: 400 {"error": {"code": 401, "message": "Invalid Credentials"}}',
        "GET /api/admin/schedule 200",
        "token_expires_at=2026-12-01T10:00:00+00:00",
        "connected to http://127.0.0.1:8001//path",
        "grant_type=authorization_code",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {ACCESS}", f"Authorization: Bearer {REDACTED}"),
        ("Authorization: Token abc123", f"Authorization: Token {REDACTED}"),
        (f"?code={CODE}&scope=x", f"?code={REDACTED}&scope=x"),
        (f'{{"state": "{STATE}"}}', f'{{"state": "{REDACTED}"}}'),
        (f"password='{PASSWORD} with spaces'", f"password='{REDACTED}'"),
    ],
)
def test_scrub_keeps_the_shape(text: str, expected: str) -> None:
    assert scrub(text) == expected
    assert scrub(expected) == expected
