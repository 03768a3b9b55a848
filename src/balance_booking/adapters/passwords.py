"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    """The PasswordHasher port: argon2id with argon2-cffi's defaults (RFC 9106 low-memory)."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        # Tests may pass cheaper parameters; the type is always argon2id.
        self._hasher = hasher or argon2.PasswordHasher(type=argon2.Type.ID)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            # A mismatch, or a stored value that is not an argon2 hash: either way, not this one.
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
