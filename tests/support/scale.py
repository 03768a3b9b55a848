"""How big the slow scenario tests run: short in `make test`, full in `make reliability` and CI."""

from __future__ import annotations

import os
from typing import TypeVar

_T = TypeVar("_T")

FULL = os.environ.get("BALANCE_RELIABILITY") == "full"


def full_or_short(full: _T, short: _T) -> _T:
    """`full` under BALANCE_RELIABILITY=full, else `short`."""
    return full if FULL else short
