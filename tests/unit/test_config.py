"""Settings: production refuses placeholder secrets; the emulator switch; generated secrets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from balance_booking.config import Settings

PG = "postgresql://u@db/balance"


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"database_url": PG}, id="no-secrets"),
        pytest.param(
            {"database_url": PG, "secret_key": "changeme", "token_encryption_keys": "k"},
            id="placeholder-secret",
        ),
        pytest.param({"secret_key": "s" * 40, "token_encryption_keys": "k"}, id="sqlite-in-prod"),
        pytest.param(
            {"database_url": PG, "secret_key": "s" * 31, "token_encryption_keys": "k" * 44},
            id="short-secret",
        ),
        pytest.param(
            {"database_url": PG, "secret_key": "s" * 40, "token_encryption_keys": "k" * 44 + ",k"},
            id="one-short-key",
        ),
        pytest.param(
            {
                "database_url": PG,
                "secret_key": "s" * 40,
                "token_encryption_keys": "k" * 44,
                "public_base_url": "http://balance.example.org",
            },
            id="http-public-url",
        ),
    ],
)
def test_prod_refuses_missing_or_placeholder_secrets(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make(env="prod", **values)


def test_prod_accepts_real_secrets() -> None:
    keys = f"{'a' * 44},{'b' * 44}"
    settings = make(
        env="prod",
        database_url=PG,
        secret_key="s" * 40,
        token_encryption_keys=keys,
        public_base_url="https://balance.example.org",
    )
    assert settings.resolved_encryption_keys() == ["a" * 44, "b" * 44]
    # A rehearsal on one machine may use plain http on a loopback address.
    for local in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"):
        make(
            env="prod",
            database_url=PG,
            secret_key="s" * 40,
            token_encryption_keys=keys,
            public_base_url=local,
        )
    assert "s" * 40 not in repr(settings)


def test_emulator_switch_points_every_google_url_at_it() -> None:
    settings = make(google_emulator_url="http://127.0.0.1:8765/")
    assert settings.google_auth_url == "http://127.0.0.1:8765/o/oauth2/v2/auth"
    assert settings.google_token_url == "http://127.0.0.1:8765/token"
    assert settings.google_revoke_url == "http://127.0.0.1:8765/revoke"
    assert settings.google_userinfo_url == "http://127.0.0.1:8765/v1/userinfo"
    assert settings.google_calendar_api_url == "http://127.0.0.1:8765/calendar/v3"


def test_embedded_default_generates_private_key_files(tmp_path: Path) -> None:
    settings = make(var_dir=tmp_path / "var")
    key = settings.resolved_encryption_keys()[0]
    Fernet(key.encode())  # a valid Fernet key
    path = tmp_path / "var" / "token_keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.resolved_encryption_keys() == [key]  # stable across calls
    secret = settings.resolved_secret_key()
    assert len(secret) > 40
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600


def test_files_the_product_creates_under_var_are_private(tmp_path: Path) -> None:
    from balance_booking.adapters.db.engine import build_engine  # noqa: PLC0415

    settings = make(var_dir=tmp_path / "var")
    settings.resolved_secret_key()
    settings.resolved_encryption_keys()
    engine = build_engine(f"sqlite:///{tmp_path / 'var' / 'balance.db'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.commit()
    engine.dispose()
    created = [path for path in (tmp_path / "var").iterdir() if path.is_file()]
    assert {path.name for path in created} >= {"secret_key", "token_keys", "balance.db"}
    for path in created:
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"
    assert (tmp_path / "var").stat().st_mode & 0o077 == 0
