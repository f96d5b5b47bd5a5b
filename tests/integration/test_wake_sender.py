"""Wake-ups leave after the commit that made the work, from the process's sender, never from
inside the writer's transaction; a rollback sends nothing."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.orm import sessionmaker

from tanggap.db import wake
from tanggap.runtime import Runtime


@pytest.fixture
def listening(runtime: Runtime, database_backend: tuple[str, str]) -> Iterator[psycopg.Connection]:
    if database_backend[0] != "postgresql":
        pytest.skip("SQLite has no notifications: the jobs poll there")
    url = wake.libpq_url(runtime.settings.database_url)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"LISTEN {wake.CHANNEL}")
        yield connection


def heard(connection: psycopg.Connection, count: int) -> list[str]:
    """The next ``count`` job names notified (waits at most 10 s)."""
    names = []
    for notice in connection.notifies(timeout=10, stop_after=count):
        names.append(notice.payload)
    return names


def test_a_commit_wakes_its_jobs_once_and_a_rollback_wakes_none(
    runtime: Runtime, listening: psycopg.Connection
) -> None:
    with runtime.factory() as session:
        with session.begin():
            wake.wake(session, wake.TRIAGE)
            wake.wake(session, wake.TRIAGE)  # twice in one transaction: told once
            wake.wake(session, wake.ACTIONS)
        rolled_back = session.begin()
        wake.wake(session, wake.SCANS)
        rolled_back.rollback()
        with session.begin():
            wake.wake(session, wake.WEBHOOKS)
    # The commits may fall in one window of the sender or in two: each job is told once either way.
    assert sorted(heard(listening, 3)) == [wake.ACTIONS, wake.TRIAGE, wake.WEBHOOKS]
    with runtime.factory() as session, session.begin():
        wake.wake(session, wake.MEDIA)
    # Nothing came between (no second TRIAGE, no SCANS from the rollback): the next is MEDIA.
    assert heard(listening, 1) == [wake.MEDIA]


def test_the_writer_sends_nothing_itself(runtime: Runtime, listening: psycopg.Connection) -> None:
    bare = sessionmaker(bind=runtime.engine)  # its sessions have no sender
    with bare() as session, session.begin():
        wake.wake(session, wake.SCANS)
    with runtime.factory() as session, session.begin():
        wake.wake(session, wake.TRIAGE)
    # Notifications arrive in commit order: had the first writer notified, SCANS came first.
    assert heard(listening, 1) == [wake.TRIAGE]
