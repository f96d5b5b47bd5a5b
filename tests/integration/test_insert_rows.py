"""Plain rows written in bulk (``COPY`` on PostgreSQL) are the rows an INSERT would write: the
columns' Python defaults for what no row names, their types' conversions, the server's defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tanggap.audit.models import AuditEvent
from tanggap.channels.models import Channel
from tanggap.db.base import insert_rows, utcnow
from tanggap.runtime import Runtime


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
        ids = dict(session.execute(select(Channel.handle, Channel.id)).tuples().all())
    assert ids["lewat_orm"] < ids["sekaligus"]
