"""Plain rows written in bulk (``COPY`` on PostgreSQL) are the rows an INSERT would write: the
columns' Python defaults for what no row names, their types' conversions, the server's defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from tanggap.audit.models import AuditEvent
from tanggap.channels.models import Channel
from tanggap.db.base import insert_new_rows, insert_rows, utcnow
from tanggap.runtime import Runtime
from tanggap.stream.intake import is_outage


def test_rows_in_bulk_take_their_defaults_and_conversions(runtime: Runtime) -> None:
    before = utcnow()
    posted = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    with runtime.factory() as session, session.begin():
        insert_rows(
            session,
            Channel,
            [
                {"handle": "pertama", "title": "Pertama", "subscribers": 12},
                {"handle": "kedua", "description": "tanpa judul"},
            ],
        )
        insert_rows(
            session,
            AuditEvent,
            [
                {
                    "occurred_at": posted,
                    "actor": "tester",
                    "action": "channel.stored",
                    "subject_type": "channel",
                    "subject_id": "pertama",
                    "data": '{"a":1}',
                }
            ],
        )
        insert_rows(session, AuditEvent, [])  # nothing to write: no statement
    with runtime.factory() as session:
        channels = {c.handle: c for c in session.execute(select(Channel)).scalars()}
        event = session.execute(select(AuditEvent)).scalar_one()
        dialect = session.get_bind().dialect.name
    first, second = channels["pertama"], channels["kedua"]
    assert (first.title, first.subscribers, first.description) == ("Pertama", 12, None)
    assert (second.title, second.subscribers, second.description) == (None, None, "tanpa judul")
    for channel in (first, second):  # the Python default, as an INSERT would have set it
        assert before <= channel.created_at <= utcnow() + timedelta(seconds=1)
        assert channel.created_at.tzinfo is not None
    assert (event.occurred_at, event.data, event.seq) == (posted, '{"a":1}', None)
    # PostgreSQL fills the appending transaction's id from the column's server default.
    assert (event.xid is not None) == (dialect == "postgresql")


def test_rows_added_through_the_orm_are_written_before_the_bulk_rows(runtime: Runtime) -> None:
    """As an INSERT statement's autoflush would: what the session holds goes first."""
    with runtime.factory() as session, session.begin():
        session.add(Channel(handle="lewat_orm"))
        insert_rows(session, Channel, [{"handle": "sekaligus"}])
    with runtime.factory() as session:
        ids = dict(session.execute(select(Channel.handle, Channel.id)).all())
    assert ids["lewat_orm"] < ids["sekaligus"]


def test_a_database_error_in_bulk_is_sqlalchemy_s_and_an_outage_when_it_is_one(
    runtime: Runtime, database_backend: tuple[str, str]
) -> None:
    """Callers take an OperationalError for the database away and try again later (the stream
    consumer, the Telegram connector): the driver's own error would be taken for a bad row."""
    postgres = database_backend[0] == "postgresql"
    with runtime.factory() as holder, runtime.factory() as session, session.begin():
        if postgres:  # the same handle held by a transaction still open: the COPY waits on it
            holder.add(Channel(handle="sama"))
            holder.flush()
            session.execute(text("SET LOCAL lock_timeout = '100ms'"))
        else:
            session.execute(text("PRAGMA query_only = ON"))
        try:
            with pytest.raises(OperationalError) as raised:
                insert_rows(session, Channel, [{"handle": "sama"}])
        finally:
            if not postgres:
                session.execute(text("PRAGMA query_only = OFF"))
        holder.rollback()
    assert is_outage(raised.value)
    assert "lock timeout" in str(raised.value) if postgres else "readonly" in str(raised.value)


def test_new_rows_get_ids_the_table_would_have_given_and_report_them_in_order(
    runtime: Runtime,
) -> None:
    with runtime.factory() as session, session.begin():
        session.add(Channel(handle="awal"))
        ids = insert_new_rows(
            session, Channel, [{"handle": "satu"}, {"handle": "dua", "id": 1}, {"handle": "tiga"}]
        )
        session.add(Channel(handle="sesudah"))  # numbered by the table after the reserved ids
    with runtime.factory() as session:
        stored = dict(session.execute(select(Channel.handle, Channel.id)).all())
    assert ids == [stored["satu"], stored["dua"], stored["tiga"]]  # a row's own id is not taken
    assert stored["awal"] < ids[0] < ids[1] < ids[2] < stored["sesudah"]
    assert insert_new_rows_of_nothing(runtime) == []


def insert_new_rows_of_nothing(runtime: Runtime) -> list[int]:
    with runtime.factory() as session, session.begin():
        return insert_new_rows(session, Channel, [])
