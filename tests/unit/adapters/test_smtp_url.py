"""SMTP_URL read into SmtpServer: what it says, and that its credentials are never repeated."""

from __future__ import annotations

import traceback
from urllib.parse import quote

import pytest

from balance_booking.adapters.mail.smtp import SmtpServer

USER = "smtp-login-7f3a"
PASSWORD = "hunter2/Secret-9c1e"  # the "/" must be percent-encoded in the URL
PIECES = (USER, *PASSWORD.replace("/", " ").replace("-", " ").split())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, False, None, None)),
        ("smtps://mail.example.org", ("mail.example.org", 465, True, None, None)),
        ("smtp://127.0.0.1:1025", ("127.0.0.1", 1025, False, None, None)),
        (
            f"smtp://{USER}:{quote(PASSWORD, safe='')}@[::1]:2525",
            ("::1", 2525, False, USER, PASSWORD),
        ),
    ],
)
def test_the_url_names_server_port_tls_and_credentials(
    url: str, expected: tuple[str, int, bool, str | None, str | None]
) -> None:
    server = SmtpServer.from_url(url)

    assert (
        server.host,
        server.port,
        server.implicit_tls,
        server.username,
        server.password,
    ) == expected


@pytest.mark.parametrize(
    "url",
    [
        f"smtp://{USER}:{PASSWORD}@mail.example.org:25",  # an unencoded "/" cuts the password
        f"smtp://{USER}:{PASSWORD.replace('/', '#')}@mail.example.org:25",
        f"smtp://{USER}:{PASSWORD.replace('/', '?')}@mail.example.org:25",
        f"smtp://{USER}:{PASSWORD}@[::1:25",
        f"smtp://{USER}:{quote(PASSWORD, safe='')}@mail.example.org:99999",
        f"smtp://{USER}:{quote(PASSWORD, safe='')}@:25",
        f"ftp://{USER}:{quote(PASSWORD, safe='')}@mail.example.org:25",
    ],
)
def test_a_bad_url_is_refused_without_quoting_any_of_it(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL must look like") as raised:
        SmtpServer.from_url(url)

    shown = "".join(traceback.format_exception(raised.value))  # what a log line could hold
    for piece in PIECES:
        assert piece not in shown


def test_repr_never_shows_the_credentials() -> None:
    server = SmtpServer.from_url(f"smtp://{USER}:{quote(PASSWORD, safe='')}@mail.example.org")

    for shown in (repr(server), str(server)):
        assert "mail.example.org" in shown
        assert USER not in shown
        assert PASSWORD not in shown


def test_scrub_replaces_credentials_and_addresses() -> None:
    server = SmtpServer.from_url(f"smtp://{USER}:{quote(PASSWORD, safe='')}@mail.example.org")

    scrubbed = server.scrub(
        f"535 {USER} with {PASSWORD} may not send as <maria@example.com> or anna@example.org".encode()
    )

    assert scrubbed == "535 <secret> with <secret> may not send as <address> or <address>"
