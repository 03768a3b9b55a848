"""The guard of tests/unit/conftest.py: a unit test that reaches for the network fails."""

from __future__ import annotations

import socket

import pytest

from tests.unit.conftest import NetworkUsedError


def test_an_internet_connection_attempt_fails_the_test() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe,
        pytest.raises(NetworkUsedError),
    ):
        probe.connect(("127.0.0.1", 5432))


def test_local_socket_pairs_still_work() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ok")
        assert right.recv(2) == b"ok"
