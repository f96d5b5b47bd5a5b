"""Engine and session factory; SQLite gets WAL and single-writer transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tanggap.db import wake


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


SQLITE_SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", **kwargs: Any) -> Engine:
    """Build an engine for ``url``; SQLite files get their folder, WAL, durable commits
    (``sqlite_synchronous``) and a busy timeout."""
    url = normalise_url(url)
    parsed = make_url(url)
    # A database error's message never carries the row's values (an e-mail, a secret): they
    # would reach the logs with it.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 30)
        return create_engine(url, **kwargs)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"sqlite_synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
    engine = create_engine(url, **kwargs)
    _make_sqlite_single_writer(engine, sqlite_synchronous)
    return engine


def _make_sqlite_single_writer(engine: Engine, synchronous: str) -> None:
    # pysqlite's own transaction handling starts transactions lazily and as DEFERRED, so two
    # writers can both read and then fail to upgrade their lock. Every transaction here starts
    # with BEGIN IMMEDIATE instead: one writer at a time, the others wait (busy timeout).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # In WAL mode NORMAL may lose the last commits on an OS crash or power loss; FULL
        # syncs the log at every commit, so an answered write is on disk.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory the API, CLI and jobs share; on PostgreSQL its sessions send
    the wake-ups of what they commit through one sender (``db.wake``; stop it with
    ``close_session_factory``)."""
    info = {}
    if engine.dialect.name == "postgresql":
        info[wake.SENDER] = wake.WakeSender(engine)
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)


def close_session_factory(factory: sessionmaker[Session]) -> None:
    """Send the wake-ups still waiting and stop the factory's sender."""
    sender = factory.kw.get("info", {}).get(wake.SENDER)
    if sender is not None:
        sender.stop()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit when the block ends, roll back when it raises."""
    with factory() as session, session.begin():
        yield session
