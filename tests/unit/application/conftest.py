"""Fixtures of the use-case tests: a World of fakes, empty, set up, or connected to Google."""

from __future__ import annotations

import pytest

from tests.unit.application.wiring import World


@pytest.fixture
def world() -> World:
    """Nothing stored yet; Google not connected."""
    return World()


@pytest.fixture
def ready() -> World:
    """Weekdays 10-18 Moscow and the 50-minute session; Google not connected."""
    return World().given()


@pytest.fixture
def synced() -> World:
    """As `ready`, with Google connected through OAuth and synced a moment ago."""
    return World().given().connect()
