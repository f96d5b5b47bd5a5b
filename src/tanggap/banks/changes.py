"""The changes of the bank entries, in the order every process applies them: entries added are
read by id (``bank_entries.id``), entries removed by the id of their tombstone
(``bank_entry_removals.id``).

Reading "everything after the last id I hold" is exact only if no id is committed after a larger
one. Every writer of entries therefore takes one lock (``lock_writers``) before it is given an
id, and keeps it to its commit: a later writer gets larger ids and commits later. On SQLite every
transaction already writes alone (``BEGIN IMMEDIATE``); on PostgreSQL the lock is a transaction
advisory lock. Bank writes are rare (a bank filled by a decision, a list imported), so the
queue they form costs little; they already queue on the audit chain's head."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, insert, select, text
from sqlalchemy.orm import Session

from tanggap.banks.models import BankEntry, BankRemoval, HashKind
from tanggap.db.base import rowcount, utcnow

# The advisory lock's key: any fixed 64-bit number no other lock of this database uses.
_WRITERS_LOCK = 0x54414E4742414E4B  # "TANGBANK"


@dataclass(frozen=True)
class Heads:
    """The largest entry id and tombstone id committed: what a process holding both is up to
    date with."""

    entry: int
    removal: int

    def covers(self, other: Heads) -> bool:
        """Tell whether everything up to ``other`` is held."""
        return self.entry >= other.entry and self.removal >= other.removal

    def upto(self, other: Heads) -> Heads:
        """Return the heads once the changes up to ``other`` are held too."""
        return Heads(max(self.entry, other.entry), max(self.removal, other.removal))


def lock_writers(session: Session) -> None:
    """Queue behind the other writers of bank entries until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITERS_LOCK})


def heads(session: Session) -> Heads:
    """Return the largest entry id and tombstone id (two index lookups, one round trip)."""
    entry, removal = session.execute(
        select(
            select(func.coalesce(func.max(BankEntry.id), 0)).scalar_subquery(),
            select(func.coalesce(func.max(BankRemoval.id), 0)).scalar_subquery(),
        )
    ).one()
    return Heads(int(entry), int(removal))


def added(
    session: Session, *, kind: HashKind, after: int, upto: int
) -> list[tuple[int, str, uuid.UUID]]:
    """Return (id, value, bank id) of the entries of ``kind`` with ``after < id <= upto``."""
    if after == 0:  # a full build: every entry of the kind, through the (kind, value) index
        rows = session.execute(
            select(BankEntry.id, BankEntry.value, BankEntry.bank_id).where(
                BankEntry.kind == kind, BankEntry.id <= upto
            )
        ).all()
        return [(int(entry_id), value, bank_id) for entry_id, value, bank_id in rows]
    # A delta: a range of the primary key, the kind sorted out here (with the kind in the
    # query SQLite prefers the (kind, value) index and reads every entry of the kind).
    delta = session.execute(
        select(BankEntry.id, BankEntry.kind, BankEntry.value, BankEntry.bank_id)
        .where(BankEntry.id > after, BankEntry.id <= upto)
        .order_by(BankEntry.id)
    ).all()
    return [
        (int(entry_id), value, bank_id)
        for entry_id, found, value, bank_id in delta
        if found == kind
    ]


def removed(session: Session, *, kind: HashKind, after: int, upto: int) -> list[int]:
    """Return the ids of the entries of ``kind`` removed with a tombstone in ``(after, upto]``."""
    return list(
        session.execute(
            select(BankRemoval.entry_id).where(
                BankRemoval.id > after, BankRemoval.id <= upto, BankRemoval.kind == kind
            )
        ).scalars()
    )


def remove_entries(session: Session, *where: ColumnElement[bool]) -> int:
    """Delete the entries matching ``where``, leaving a tombstone for each; return how many.
    Every removal of entries (a case's entries, a bank deleted) goes through here."""
    lock_writers(session)
    gone = session.execute(
        select(BankEntry.id, BankEntry.kind).where(*where).with_for_update()
    ).all()
    if not gone:
        return 0
    now = utcnow()
    session.execute(
        insert(BankRemoval),
        [{"entry_id": entry_id, "kind": kind, "removed_at": now} for entry_id, kind in gone],
    )
    ids = [entry_id for entry_id, _ in gone]
    deleted = 0
    for start in range(0, len(ids), 1_000):
        deleted += rowcount(
            session.execute(delete(BankEntry).where(BankEntry.id.in_(ids[start : start + 1_000])))
        )
    return deleted
