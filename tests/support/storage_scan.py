"""Everything a database holds, as bytes, for tests that prove something is gone: a raw read of
the SQLite file and its write-ahead log, or a `pg_dump` of the PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url


def stored_bytes(database_url: str) -> bytes:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-journal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        if os.environ.get("BALANCE_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("pg_dump is needed to scan the PostgreSQL database (postgresql-client)")
        pytest.skip("pg_dump not installed")
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dumped = subprocess.run(  # noqa: S603 - a fixed program and our own test database's URL
        [pg_dump, "--data-only", "--no-owner", libpq],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return dumped.stdout


def traces(database_url: str, markers: list[str]) -> list[str]:
    """The markers still found anywhere in the stored bytes (UTF-8, any case for e-mails)."""
    data = stored_bytes(database_url)
    lowered = data.lower()
    return [
        marker
        for marker in markers
        if marker.encode() in data or marker.lower().encode() in lowered
    ]
