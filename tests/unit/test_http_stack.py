"""`serve` names the event loop and HTTP parser it runs with; "auto" prefers the C speed-ups."""

from __future__ import annotations

import importlib.util

import pytest

from balance_booking.cli import HttpStack, http_stack


def test_auto_takes_uvloop_and_httptools_when_they_are_installed() -> None:
    # Both are locked dependencies (pyproject.toml), so "auto" finds them here.
    assert importlib.util.find_spec("uvloop") is not None
    assert importlib.util.find_spec("httptools") is not None
    assert http_stack() == HttpStack(loop="uvloop", http="httptools")
    assert http_stack().describe() == "loop=uvloop http=httptools"


def test_without_them_auto_falls_back_to_asyncio_and_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in {"uvloop", "httptools"} else real(name, *a),
    )
    assert http_stack() == HttpStack(loop="asyncio", http="h11")


def test_an_explicit_choice_is_kept() -> None:
    assert http_stack(loop="asyncio", http="h11") == HttpStack(loop="asyncio", http="h11")
