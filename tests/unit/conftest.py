"""Unit tests run without network: any attempt to open an internet socket fails the test."""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkUsedError(AssertionError):
    """A unit test tried to reach the network (a database server, the emulator, Google)."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkUsedError(f"unit tests must not connect to {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded)
