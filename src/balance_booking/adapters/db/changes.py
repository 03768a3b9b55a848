"""Change tracking inside one unit of work (drives the data version)."""

from __future__ import annotations


class ChangeTracker:
    """Set by repositories when a write changes what availability depends on."""

    def __init__(self) -> None:
        self.changed = False

    def mark(self) -> None:
        self.changed = True
