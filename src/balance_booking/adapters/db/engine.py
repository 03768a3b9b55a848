"""Engine construction: SQLite tuned for concurrent writers, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver name the operator wrote."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine for `url`; for a SQLite file, make its folder first."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            _private_file(Path(database))
        # Connections to a local file are cheap; size the pool for the web server's thread pool
        # (40 threads) so requests queue on SQLite's write lock, not on the pool.
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=20,
            max_overflow=30,
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(
        url, pool_size=2 * pool_size, max_overflow=pool_size, pool_timeout=60, pool_pre_ping=True
    )


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling issues BEGIN lazily and cannot do BEGIN IMMEDIATE;
    # take it over (the recipe from SQLAlchemy's SQLite docs) so write transactions can take
    # the write lock up front and never fail half-way with "database is locked".
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed, not left in free space where a raw read of
        # the file would find an erased client's name (docs/privacy.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by this user only; SQLite gives its -wal
    and -shm files the database file's mode. An existing file is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def forget_deleted(engine: Engine) -> None:
    """Make erased data unreadable from the files too. SQLite zeroes deleted content in its pages
    (secure_delete), but earlier page images stay in the write-ahead log until it is checkpointed
    and truncated; PostgreSQL's dead row versions are not in any dump and are vacuumed away."""
    if engine.dialect.name != "sqlite":
        return
    # Outside any transaction (the driver connection is in autocommit mode, see _tune_sqlite).
    # Best effort: with readers still open it checkpoints what it can; the next run finishes.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        connection.close()
