"""Helpers shared by the detection benchmarks: pinning to one core, fresh databases to fill."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from tanggap.db.session import normalise_url


@contextmanager
def one_core() -> Iterator[int]:
    """Pin this process to one core while the block runs; yield the core's number."""
    everything = os.sched_getaffinity(0)
    core = max(everything)
    os.sched_setaffinity(0, {core})
    try:
        yield core
    finally:
        os.sched_setaffinity(0, everything)


@contextmanager
def databases(
    names: Sequence[str], root: Path, *, postgres: bool = False, server_url: str | None = None
) -> Iterator[list[str]]:
    """Yield the URLs of fresh, empty databases, one per name: SQLite files under ``root`` by
    default; with ``postgres`` or ``server_url``, databases created (and dropped afterwards) on a
    pgserver started under ``root`` or on the server that ``server_url`` names."""
    if not (postgres or server_url):
        yield [f"sqlite:///{root}/{name}.db" for name in names]
        return
    server = None
    url = server_url
    if not url:
        import pgserver

        server = pgserver.get_server(root / "pg", cleanup_mode="stop")
        url = server.get_uri()
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    base = make_url(normalise_url(url))
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                conn.execute(text(f"CREATE DATABASE {name}"))
        yield [base.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
        if server is not None:
            server.cleanup()
