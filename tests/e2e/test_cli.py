"""The CLI as an operator uses it: migrate, create-admin-token, demo (the `make run` path)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.engine import build_engine
from balance_booking.cli import tcp_listener
from tests.support.live_server import free_port
from tests.support.processes import CLI, run_cli, wait_until_up


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_")}
    env["BALANCE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["BALANCE_VAR_DIR"] = str(tmp_path / "var")
    return env


def test_migrate_then_token_then_serve(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert "migrations applied" in run_cli("migrate", env=env).stdout
    token = run_cli("create-admin-token", "--name", "ops", env=env).stdout.strip()
    assert token.startswith("bb_")
    assert len(token) > 40
    port = free_port()
    with running("serve", "--port", str(port), env=env):
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/api/admin/services", headers=headers).status_code == 200
        assert httpx.get(f"{base}/api/admin/services").status_code == 401


def test_serve_with_two_processes_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    run_cli("migrate", env=env)
    port = free_port()
    with running("serve", "--workers", "2", "--no-worker", "--port", str(port), env=env) as web:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        with httpx.Client(base_url=base) as http:  # keep-alive, as a load balancer would
            for _ in range(20):
                assert http.get("/healthz").status_code == 200
            assert http.get("/api/public/booking/services").json() == {"services": []}
        web.terminate()
        assert web.wait(timeout=30) == 0


def test_a_worker_serves_its_own_metrics_when_asked(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    run_cli("migrate", env=env)
    port = free_port()
    env["BALANCE_WORKER_METRICS_PORT"] = str(port)
    with running("worker", env=env) as worker:
        text = _first_answer(f"http://127.0.0.1:{port}/metrics", process=worker)
        # The dispatcher's gauge and the export counters live in this process, not in the web's.
        assert "balance_outbox_backlog 0.0" in text
        assert "# TYPE balance_google_writes_total counter" in text
        worker.terminate()
        assert worker.wait(timeout=30) == 0


def test_the_shared_listening_socket_reports_tcp() -> None:
    # uvicorn binds the multi-process socket with protocol 0, so asyncio never set TCP_NODELAY
    # on its connections (a ~40 ms delayed-ACK stall per keep-alive response); see cli.py.
    config = uvicorn.Config("balance_booking.bootstrap:app_from_environment", port=free_port())
    listener = tcp_listener(config)
    try:
        assert listener.proto == socket.IPPROTO_TCP
        assert listener.getsockname()[1] == config.port
    finally:
        listener.close()


def test_demo_seeds_data_and_prints_a_working_token(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    port = free_port()
    emulator_port = free_port()
    with running(
        "demo", "--port", str(port), "--emulator-port", str(emulator_port), env=env
    ) as demo:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        assert demo.stdout is not None
        banner: list[str] = []
        while not any("Google emulator" in line for line in banner) and len(banner) < 500:
            banner.append(demo.stdout.readline())
        token = next(line.split()[-1] for line in banner if "admin token" in line)
        services = httpx.get(f"{base}/api/public/booking/services").json()["services"]
        assert [s["slug"] for s in services] == ["consultation", "first-meeting"]
        slots = httpx.get(
            f"{base}/api/public/booking/slots", params={"service_slug": "consultation"}
        )
        assert slots.status_code == 200
        assert slots.json()["slots"], "the demo offers slots in the coming week"
        assert any(f"127.0.0.1:{emulator_port}" in line for line in banner)
        login = next(line for line in banner if "admin sign-in" in line)
        email, password = login.split()[-3], login.split()[-1]
        signed_in = httpx.post(
            f"{base}/admin/login",
            data={"email": email, "password": password},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        week = httpx.get(f"http://127.0.0.1:{emulator_port}/_emulator/calendar")
        assert week.status_code == 200
        assert "Супервизия" in week.text, "the demo calendar has busy events"
        schedule = httpx.get(
            f"{base}/api/admin/schedule", headers={"Authorization": f"Bearer {token}"}
        )
        assert schedule.json()["weekly"]["mon"] == [["10:00", "14:00"], ["15:00", "19:00"]]
    assert (tmp_path / "cli.db").exists()


@contextmanager
def running(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """Start a CLI command; stop it however the block ends (a failed assert must not hang)."""
    with subprocess.Popen(  # noqa: S603 - our own CLI
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _first_answer(url: str, *, process: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the process exited with {process.returncode}"
        try:
            return httpx.get(url, timeout=1).raise_for_status().text
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def test_admin_tokens_expire_are_listed_and_revoked_from_the_cli(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    run_cli("migrate", env=env)
    kept = run_cli("create-admin-token", "--name", "ops", env=env).stdout.strip()
    never = run_cli("create-admin-token", "--name", "ci", "--expires-days", "0", env=env)
    listed = run_cli("list-admin-tokens", env=env).stdout.splitlines()
    assert [line.split("\t")[1] for line in listed] == ["ops", "ci"]
    assert "expires never" in listed[1]
    assert "expires never" not in listed[0]
    assert kept not in "\n".join(listed)
    assert never.stdout.strip() not in "\n".join(listed)
    token_id = listed[1].split("\t")[0]
    assert "revoked" in run_cli("revoke-admin-token", token_id, env=env).stdout
    assert len(run_cli("list-admin-tokens", env=env).stdout.splitlines()) == 1
    # The command line's token changes are admin actions too: in the audit log, by `cli:USER`.
    engine = build_engine(env["BALANCE_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(select(t.audit_log).order_by(t.audit_log.c.id)).all()
    engine.dispose()
    assert [(row.action, row.target) for row in rows] == [
        ("token.create", "name=ops"),
        ("token.create", "name=ci"),
        ("token.revoke", f"token_id={token_id}"),
    ]
    assert all(row.actor.startswith("cli") for row in rows)


def test_the_demo_reuses_its_token(tmp_path: Path) -> None:
    from balance_booking.bootstrap import build_container, migrate_database  # noqa: PLC0415
    from balance_booking.cli import _demo_token  # noqa: PLC0415
    from balance_booking.config import Settings  # noqa: PLC0415

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cli.db'}", var_dir=tmp_path, _env_file=None
    )  # type: ignore[call-arg]
    container = build_container(settings)
    try:
        migrate_database(container)
        first = _demo_token(container, tmp_path / "demo_admin_token")
        assert _demo_token(container, tmp_path / "demo_admin_token") == first
        assert (tmp_path / "demo_admin_token").stat().st_mode & 0o077 == 0
        (tmp_path / "demo_admin_token").write_text("bb_revoked", encoding="utf-8")
        assert _demo_token(container, tmp_path / "demo_admin_token") != first
    finally:
        container.close()


def test_serve_names_its_http_stack_and_the_pure_python_one_still_serves(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    run_cli("migrate", env=env)
    for flags, named in (
        (["--loop", "asyncio", "--http", "h11"], "loop=asyncio http=h11"),
        ([], "loop=uvloop http=httptools"),  # both are locked dependencies
    ):
        port = free_port()
        with running("serve", "--no-worker", "--port", str(port), *flags, env=env) as web:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, process=web)  # type: ignore[arg-type]
            with httpx.Client(base_url=base) as http:
                for _ in range(5):
                    assert http.get("/healthz").status_code == 200
                assert http.get("/api/public/booking/services").json() == {"services": []}
            web.terminate()
            output, _ = web.communicate(timeout=30)
        assert f"balance-booking serve: {named}" in output
