"""Run the benchmarks in bench/ and write one report: build/bench/report.md and report.json.

Every module of the package with a ``run() -> dict`` is a benchmark. ``python -m bench`` runs all
of them; ``python -m bench slot_engine ...`` runs the named ones. Run from the repository root
(``make bench``), so that ``bench`` and ``tests`` are importable. Each benchmark runs in a fresh
interpreter, so a peak RSS it reports is its own (not the high-water mark of the benchmarks
before it) and global state such as the metrics registry starts empty.

A benchmark's dict maps figure names to values. The optional entry ``"targets"`` is a list of
``{"name": str, "value": number | bool | str, "met": bool}``: the figures that have a target,
judged by the benchmark itself. The report puts them in one table, led by the four targets of
issue 8 (a target whose benchmark did not run or failed shows as "not measured").
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import psutil

import bench

REPORT_DIR = Path("build") / "bench"
REPORT_PATH = REPORT_DIR / "report.json"
MARKDOWN_PATH = REPORT_DIR / "report.md"

# Every benchmark is bounded by its own design; this only stops a hung one.
BENCHMARK_TIMEOUT_S = 600

Runner = Callable[[], Mapping[str, object]]
Target = dict[str, Any]

# The four targets of issue 8: (benchmark, target name as that benchmark reports it).
ISSUE_TARGETS = (
    ("slots_throughput", "cached slots >= 0.6 x /healthz"),
    ("push_latency", "push-to-fresh-slots p95 <= 2 s"),
    ("booking_throughput", "zero double bookings (SQLite and PostgreSQL)"),
    ("web_scaling", "web scaling 1 -> 2 processes >= 1.6x on 2 cores"),
)


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def _discover(wanted: set[str]) -> list[str]:
    # Every public module of the package, in name order so that reports line up run to run.
    names = sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_")
    )
    unknown = wanted - set(names)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have {names}")
    return [name for name in names if not wanted or name in wanted]


def _run_one(name: str) -> Mapping[str, object] | None:
    module = importlib.import_module(f"{bench.__name__}.{name}")
    runner = getattr(module, "run", None)
    if not callable(runner):
        return None
    print(f"running {name} ...", file=sys.stderr, flush=True)
    return cast("Runner", runner)()


def _run_isolated(name: str) -> Mapping[str, object] | None:
    """`_run_one` in a fresh interpreter: its own peak RSS, metrics registry and crashes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        completed = subprocess.run(  # noqa: S603 - this package, fixed arguments
            [sys.executable, "-m", bench.__name__, "--isolated", name, str(out)],
            timeout=BENCHMARK_TIMEOUT_S,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the benchmark process exited with {completed.returncode}")
        figures: Mapping[str, object] | None = json.loads(out.read_text(encoding="utf-8"))
        return figures


def _targets(results: Mapping[str, Mapping[str, object]]) -> list[Target]:
    """The issue's four targets first (measured or not), then every other reported target."""
    reported: list[Target] = []
    for name, figures in results.items():
        listed = figures.get("targets")
        entries = listed if isinstance(listed, list) else []
        reported.extend({"benchmark": name, **entry} for entry in entries)
    rows: list[Target] = []
    for benchmark, target in ISSUE_TARGETS:
        match = next(
            (t for t in reported if t["benchmark"] == benchmark and t["name"] == target), None
        )
        if match is None:
            status = "failed" if "error" in results.get(benchmark, {}) else "not run"
            match = {"benchmark": benchmark, "name": target, "value": status, "met": None}
        rows.append({**match, "kind": "issue 8"})
    rows.extend(
        {**t, "kind": "budget / earlier issue"}
        for t in reported
        if (t["benchmark"], t["name"]) not in set(ISSUE_TARGETS)
    )
    return rows


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _postgres_version() -> str:
    try:
        from sqlalchemy import create_engine, text  # noqa: PLC0415 - only for the header
        from tests.support.databases import postgres_admin_url  # noqa: PLC0415

        url = postgres_admin_url()
        if url is None:
            return "not reachable"
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return str(connection.execute(text("SHOW server_version")).scalar())
        finally:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 - the header reports it instead of failing
        return f"unknown ({type(error).__name__})"


def _git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603 - fixed read-only git commands
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} (with uncommitted changes)" if dirty else commit


def _environment() -> dict[str, object]:
    memory = psutil.virtual_memory().total
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {psutil.cpu_count(logical=False)} physical",
        "ram_gib": round(memory / 2**30, 1),
        "load_average": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "git_commit": _git_commit(),
    }


def _markdown(report: Mapping[str, Any]) -> str:
    env = report["environment"]
    lines = [
        "# Benchmark report",
        "",
        f"- date: {report['generated_at']} (whole run {report['duration_s']:.0f} s)",
        f"- machine: {env['platform']}; {env['cpu']}; {env['cores']} cores; {env['ram_gib']} GiB RAM",
        f"- load average when the run started: {env['load_average']}",
        f"- Python {env['python']}; SQLite {env['sqlite']}; PostgreSQL {env['postgresql']}",
        f"- git commit: {env['git_commit']}",
        "",
        "## Targets",
        "",
        "| target | from | benchmark | measured | met |",
        "|---|---|---|---|---|",
    ]
    for row in report["targets"]:
        met = "not measured" if row["met"] is None else ("**met**" if row["met"] else "**not met**")
        lines.append(
            f"| {row['name']} | {row['kind']} | {row['benchmark']} | {_format(row['value'])} "
            f"| {met} |"
        )
    for name, figures in report["benchmarks"].items():
        seconds = report["durations_s"].get(name)
        took = f" ({seconds:.0f} s)" if isinstance(seconds, float) else ""
        lines += ["", f"## {name}{took}", "", "| figure | value |", "|---|---|"]
        lines.extend(
            f"| {metric} | {_format(value)} |"
            for metric, value in figures.items()
            if metric != "targets"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--isolated"]:
        _, name, out = argv
        figures = _run_one(name)
        Path(out).write_text(json.dumps(figures, default=str), encoding="utf-8")
        return 0
    began = time.monotonic()
    environment = _environment()
    results: dict[str, Mapping[str, object]] = {}
    durations: dict[str, float] = {}
    failed: list[str] = []
    for name in _discover(set(argv)):
        started = time.monotonic()
        try:
            figures = _run_isolated(name)
        # One broken benchmark must not cost the figures of all the others: report it, go on,
        # and fail the run at the end.
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            failed.append(name)
            figures = {"error": f"{type(error).__name__}: {error}"}
        if figures is not None:
            results[name] = figures
            durations[name] = time.monotonic() - started

    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": time.monotonic() - began,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "environment": environment,
        "targets": _targets(results),
        "durations_s": durations,
        "benchmarks": results,
    }
    markdown = _markdown(report)
    print(markdown)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    MARKDOWN_PATH.write_text(markdown, encoding="utf-8")
    print(f"report written to {MARKDOWN_PATH} and {REPORT_PATH}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
