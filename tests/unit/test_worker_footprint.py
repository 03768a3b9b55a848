"""The worker's memory budget (120 MB) leaves no room for the web stack it never uses."""

from __future__ import annotations

import subprocess
import sys

# ~25 MiB together: FastAPI/Starlette, the pages' Jinja2 and Babel, and Alembic (migrations).
WEB_ONLY = ("fastapi", "starlette", "jinja2", "babel", "alembic")


def test_the_worker_entry_point_does_not_import_the_web_stack() -> None:
    probe = (
        "import sys\n"
        "from balance_booking.bootstrap import build_worker\n"
        "import balance_booking.cli\n"
        f"print(sorted(m for m in {WEB_ONLY!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"
