"""Process set-up of served processes: malloc arenas limited unless the operator chose."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from balance_booking import bootstrap


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return 1


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> FakeLibc:
    fake = FakeLibc()
    monkeypatch.setattr(bootstrap.ctypes, "CDLL", lambda _name: fake)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    return fake


def test_two_arenas_on_glibc(libc: FakeLibc) -> None:
    bootstrap.limit_malloc_arenas()
    assert libc.calls == [(-8, 2)]  # M_ARENA_MAX


def test_the_operators_setting_wins(libc: FakeLibc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    bootstrap.limit_malloc_arenas()
    assert libc.calls == []


def test_nothing_without_a_c_library(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library(_name: Any) -> Any:
        raise OSError("no libc")

    monkeypatch.setattr(bootstrap.ctypes, "CDLL", no_library)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    bootstrap.limit_malloc_arenas()  # does not raise
