"""Run every benchmark module in bench/, print one markdown report, write build/bench/report.json.

Run from the repository root (``make bench``), so that ``bench`` and ``tests`` are importable.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import bench

REPORT_PATH = Path("build") / "bench" / "report.json"


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _discover() -> list[str]:
    # Every module of the package except this entry point, in name order so reports line up.
    return sorted(
        f"{bench.__name__}.{info.name}"
        for info in pkgutil.iter_modules(bench.__path__)
        if not info.name.startswith("_")
    )


def main() -> int:
    results: dict[str, Mapping[str, object]] = {}
    for module_name in _discover():
        module = importlib.import_module(module_name)
        runner = getattr(module, "run", None)
        if not callable(runner):
            continue
        print(f"running {module_name} ...", file=sys.stderr, flush=True)
        results[module_name.rpartition(".")[2]] = cast(
            "Callable[[], Mapping[str, object]]", runner
        )()

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
