"""Apply Alembic migrations programmatically (the `migrate` command and embedded start-up)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: only `migrate` and start-ups that migrate need it, and
# it would add ~10 MiB to every worker process (memory budget: docs/deployment.md).

_MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    from alembic.config import Config  # noqa: PLC0415 - see the note on imports above

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def migrate(engine: Engine, *, revision: str = "head") -> None:
    """Upgrade the database behind `engine` to `revision`."""
    from alembic import command  # noqa: PLC0415 - see the note on imports above

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, *, revision: str) -> None:
    """Downgrade the database behind `engine` to `revision` (used by migration tests)."""
    from alembic import command  # noqa: PLC0415 - see the note on imports above

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
