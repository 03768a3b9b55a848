"""Cheap stand-ins for the slow or secret-bearing ports: TokenCipher and PasswordHasher."""

from __future__ import annotations

import base64

from balance_booking.application.errors import UndecryptableTokenError


class FakeTokenCipher:
    """A keyed, reversible encoding with MultiFernet's rules: the first key encrypts, any
    configured key decrypts, `rotate` re-encrypts under the first. Not secret, but the plaintext
    never appears in the ciphertext, so tests can still check that nothing leaks."""

    def __init__(self, *keys: str) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self.keys = list(keys)

    def encrypt(self, plaintext: str) -> str:
        body = base64.urlsafe_b64encode(plaintext[::-1].encode()).decode()
        return f"enc:{self.keys[0]}:{body}"

    def decrypt(self, ciphertext: str) -> str:
        prefix, key, body = [*ciphertext.split(":", 2), "", ""][:3]
        if prefix != "enc" or key not in self.keys:
            raise UndecryptableTokenError("no configured key decrypts this value")
        return base64.urlsafe_b64decode(body.encode()).decode()[::-1]

    def rotate(self, ciphertext: str) -> str:
        return self.encrypt(self.decrypt(ciphertext))


class FakePasswordHasher:
    """Reversible "hashes" with a version tag; counts the (normally slow) work asked of it."""

    def __init__(self, version: int = 2) -> None:
        self.version = version
        self.hashed = 0
        self.verified: list[str] = []

    def hash(self, password: str) -> str:
        self.hashed += 1
        return f"v{self.version}:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash.split(":", 1)[-1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"v{self.version}:")
