"""Run the benchmarks in bench/, print one markdown report, write build/bench/report.json.

Every module of the package with a ``run() -> dict`` is a benchmark. ``python -m bench`` runs all
of them; ``python -m bench slot_engine ...`` runs the named ones. Run from the repository root
(``make bench``), so that ``bench`` and ``tests`` are importable.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import bench

REPORT_PATH = Path("build") / "bench" / "report.json"

Runner = Callable[[], Mapping[str, object]]


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


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


def main(argv: list[str]) -> int:
    results: dict[str, Mapping[str, object]] = {}
    failed: list[str] = []
    for name in _discover(set(argv)):
        try:
            figures = _run_one(name)
        # One broken benchmark must not cost the figures of all the others: report it, go on,
        # and fail the run at the end.
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            failed.append(name)
            figures = {"error": f"{type(error).__name__}: {error}"}
        if figures is not None:
            results[name] = figures

    print("| benchmark | metric | value |")
    print("|---|---|---|")
    for name, figures in results.items():
        for metric, value in figures.items():
            print(f"| {name} | {metric} | {_format(value)} |")

    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "benchmarks": results,
    }
    REPORT_PATH.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nreport written to {REPORT_PATH}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
