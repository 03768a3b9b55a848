"""The app behind both HTTP stacks: uvloop + httptools (the default) and asyncio + h11."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_app, build_container
from balance_booking.config import Settings
from tests.support.live_server import serve_app


@pytest.mark.parametrize(("loop", "http"), [("uvloop", "httptools"), ("asyncio", "h11")])
def test_the_app_answers_over_either_stack(tmp_path: Path, loop: str, http: str) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'stack.db'}",
        var_dir=tmp_path / "var",
        _env_file=None,
    )
    container = build_container(settings)
    migrate(container.engine)
    try:
        with (
            serve_app(build_app(container), loop=loop, http=http) as base,
            httpx.Client(base_url=base) as client,  # one keep-alive connection
        ):
            for _ in range(5):
                assert client.get("/healthz").status_code == 200
            assert client.get("/api/public/booking/services").json() == {"services": []}
            unknown = client.get("/api/public/booking/slots", params={"service_slug": "none"})
            assert unknown.status_code == 404
            assert unknown.headers["content-type"].startswith("application/json")
    finally:
        container.close()
