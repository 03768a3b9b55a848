"""`balance-booking` as real subprocesses: one-shot commands, long-running servers and workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import Container, build_container
from balance_booking.config import Settings
from tests.support.google import NO_WAIT

CLI = [sys.executable, "-m", "balance_booking.cli"]
# SIGTERM first (the worker finishes its job, uvicorn its requests), SIGKILL after this long.
STOP_GRACE_SECONDS = 15.0


# The public edge's limits are off for the suite, whose clients share one address and one e-mail
# (docs/public-edge.md); tests/security/ turns them on where they are the subject.
SUITE_EDGE_SETTINGS = {
    "BALANCE_PUBLIC_WRITE_LIMIT": "",
    "BALANCE_MAX_ACTIVE_BOOKINGS_PER_CLIENT": "1000",
    # Most tests add busy time to Google and book in the same instant of a frozen clock.
    "BALANCE_LIVE_CHECK_FRESH_SECONDS": "0",
}


def balance_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its BALANCE_ variables, plus the suite's edge
    settings and `settings`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_")}
    return inherited | SUITE_EDGE_SETTINGS | dict(settings)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a one-shot command to completion; a non-zero exit fails with its output."""
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=True
    )


@contextmanager
def cli_processes(
    commands: Mapping[str, Sequence[str]], *, env: dict[str, str], logs: Path
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Start `balance-booking <args>` for each name, output in `logs/<name>.log`.

    However the block ends (a failed assertion included), every process that was started is
    stopped: SIGTERM to all at once, SIGKILL for any still running after the grace period.
    """
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, args in commands.items():
            with (logs / f"{name}.log").open("wb") as output:
                processes[name] = subprocess.Popen(  # noqa: S603 - our own CLI
                    [*CLI, *args], env=env, stdout=output, stderr=subprocess.STDOUT
                )
        yield processes
    finally:
        stop_all(processes.values())


def stop_all(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_logs(logs: Path, pattern: str = "*.log") -> dict[str, str]:
    """The output so far of every process whose log matches `pattern`, by name."""
    return {path.stem: path.read_text(errors="replace") for path in sorted(logs.glob(pattern))}


def wait_until_up(
    base: str,
    *,
    timeout: float = 60,
    process: subprocess.Popen[bytes] | None = None,
    path: str = "/healthz",
) -> None:
    """Wait for `base` + `path` to answer 200; give up early if `process` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{base}: the server exited with status {process.returncode}")
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not come up")


@contextmanager
def container_on_the_real_clock(settings: Settings) -> Iterator[Container]:
    """The test's container on the system clock (worker subprocesses have no other), migrated."""
    built = build_container(settings, retry=NO_WAIT)
    if built.is_sqlite():
        migrate(built.engine)
    try:
        yield built
    finally:
        built.close()
