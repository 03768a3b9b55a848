"""Secrets at rest: Fernet with rotation (MultiFernet), behind the TokenCipher port."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from balance_booking.application.errors import UndecryptableTokenError


class FernetTokenCipher:
    """The first key encrypts; every key decrypts; `rotate` re-encrypts under the first key."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is required")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise UndecryptableTokenError("no configured key decrypts this value") from exc

    def rotate(self, ciphertext: str) -> str:
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise UndecryptableTokenError("no configured key decrypts this value") from exc

    def __repr__(self) -> str:
        return "FernetTokenCipher(<keys redacted>)"
