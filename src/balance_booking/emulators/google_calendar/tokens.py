"""Opaque page and sync tokens: base64 JSON, so the emulator stays stateless between pages."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(token: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise TokenError(token) from exc
    if not isinstance(data, dict):
        raise TokenError(token)
    return data


class TokenError(ValueError):
    """A token the emulator did not mint."""


@dataclass(frozen=True, slots=True)
class SyncToken:
    calendar_id: str
    seq: int  # changes with a larger sequence number are "since" this token
    generation: int  # bumped by expire-sync-tokens; older generations answer 410
    issued_ms: int

    def encode(self) -> str:
        return _encode(
            {"c": self.calendar_id, "s": self.seq, "g": self.generation, "t": self.issued_ms}
        )

    @classmethod
    def decode(cls, token: str) -> SyncToken:
        data = _decode(token)
        try:
            return cls(str(data["c"]), int(data["s"]), int(data["g"]), int(data["t"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TokenError(token) from exc


@dataclass(frozen=True, slots=True)
class PageToken:
    """Keyset pagination: the sort key of the last item served, plus the listing's snapshot."""

    last_key: list[Any]
    snapshot_seq: int  # becomes the nextSyncToken on the last page
    since_seq: int | None  # set while paging an incremental (syncToken) listing

    def encode(self) -> str:
        return _encode({"k": self.last_key, "s": self.snapshot_seq, "b": self.since_seq})

    @classmethod
    def decode(cls, token: str) -> PageToken:
        data = _decode(token)
        key = data.get("k")
        if not isinstance(key, list):
            raise TokenError(token)
        try:
            since = data.get("b")
            return cls(key, int(data["s"]), None if since is None else int(since))
        except (KeyError, TypeError, ValueError) as exc:
            raise TokenError(token) from exc
