"""`create-admin` as an operator runs it, then signing in with that account on the served app."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.e2e.test_cli import cli_env, running
from tests.support.live_server import free_port
from tests.support.processes import CLI, wait_until_up

EMAIL = "Owner@Example.com"
PASSWORD = "a long passphrase"


def create_admin(env: dict[str, str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, "create-admin", "--email", EMAIL],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_create_admin_from_stdin_then_sign_in(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    created = create_admin(env, f"{PASSWORD}\nignored second line\n")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "admin owner@example.com created"
    assert PASSWORD not in created.stdout + created.stderr

    duplicate = create_admin(env, f"{PASSWORD}\n")
    assert duplicate.returncode == 1
    assert "exists already" in duplicate.stderr

    short = create_admin(cli_env(tmp_path / "other"), "short\n")
    assert short.returncode == 1
    assert "at least 10 characters" in short.stderr

    port = free_port()
    with running("serve", "--port", str(port), env=env) as server:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        with httpx.Client(base_url=base) as browser:
            response = browser.post(
                "/admin/login",
                data={"email": EMAIL, "password": PASSWORD, "next": "/admin/schedule/"},
            )
            assert response.status_code == 303
            assert response.headers["location"] == "/admin/schedule/"
            assert browser.get("/api/admin/schedule").status_code == 200
        assert browser.cookies.get("bb_admin") is not None
        session_id = browser.cookies["bb_admin"]
        server.terminate()
        logged, _ = server.communicate(timeout=30)
    # The server logs JSON lines with request ids, and never the password or the session id.
    assert PASSWORD not in logged
    assert session_id not in logged
    access = [
        json.loads(line)
        for line in logged.splitlines()
        if line.startswith("{") and json.loads(line).get("logger") == "uvicorn.access"
    ]
    assert access, logged
    assert all(line.get("request_id") for line in access)
