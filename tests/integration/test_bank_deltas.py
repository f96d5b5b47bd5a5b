"""Bank indexes shared by several processes: each process builds its indexes once, then takes
the entries added and removed since, by id, from the database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from tanggap.banks import service as banks
from tanggap.banks.matcher import BankMatcher
from tanggap.banks.models import Bank
from tanggap.banks.schemas import BankIn, EntryIn
from tanggap.config import Settings
from tanggap.detectors.minhash import signature
from tanggap.detectors.normalise import normalise
from tanggap.runtime import Runtime, build_runtime

ACTOR = "test:banks"
FIRST = "f" * 64
SECOND = "0f" * 32
THIRD = "a5" * 32
TEXT = "promo judi online slot gacor hari ini daftar sekarang bonus seratus persen"


@dataclass(frozen=True)
class Media:
    md5: str | None = None
    sha256: str | None = None
    pdq: str | None = None


@pytest.fixture
def other(settings: Settings) -> Iterator[Runtime]:
    """A second process over the same database."""
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def matcher(runtime: Runtime) -> BankMatcher:
    found = runtime.pipeline.banks
    assert isinstance(found, BankMatcher)
    return found


def make_bank(runtime: Runtime) -> Bank:
    with runtime.factory() as session, session.begin():
        return banks.create(
            session=session,
            data=BankIn(name="shared", category="terrorism", policy="review"),
            policy=runtime.policy,
            actor=ACTOR,
        )


def add(runtime: Runtime, bank: Bank, entries: list[EntryIn]) -> None:
    with runtime.factory() as session, session.begin():
        banks.add_entries(session=session, bank=bank, entries=entries, actor=ACTOR)


def pdq_hits(runtime: Runtime, pdq: str) -> list[str]:
    """Return the kinds of the banks' entries a media item with this PDQ hash matches."""
    with runtime.factory() as session, session.begin():
        found = matcher(runtime).match(session=session, media=[Media(pdq=pdq)])[0]
    return [f"{match.bank.name}:{match.distance}" for match in found]


def near(hex_hash: str, bits: int) -> str:
    """Flip the lowest ``bits`` bits of a hash."""
    value = int(hex_hash, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def test_a_hash_added_through_one_process_is_matched_by_the_other_without_a_rebuild(
    runtime: Runtime, other: Runtime
) -> None:
    bank = make_bank(runtime)
    add(runtime, bank, [EntryIn(kind="pdq", value=FIRST)])
    assert pdq_hits(other, near(FIRST, 3)) == ["shared:3"]
    assert pdq_hits(runtime, FIRST) == ["shared:0"]
    assert pdq_hits(other, SECOND) == []

    add(runtime, bank, [EntryIn(kind="pdq", value=SECOND)])
    assert pdq_hits(other, near(SECOND, 5)) == ["shared:5"]
    assert pdq_hits(runtime, SECOND) == ["shared:0"]
    # entries of another kind move the heads but add nothing to the PDQ index
    add(runtime, bank, [EntryIn(kind="md5", value="ab" * 16)])
    assert pdq_hits(other, FIRST) == ["shared:0"]
    assert (matcher(other).rebuilds, matcher(other).deltas) == (1, 2)
    assert (matcher(runtime).rebuilds, matcher(runtime).deltas) == (1, 1)

    signed = signature(normalise(TEXT))
    assert signed is not None
    with other.factory() as session, session.begin():
        assert matcher(other).match_text(session=session, found=signed, bound=0.8) == []
    add(runtime, bank, [EntryIn(kind="minhash", value=signed.hex())])
    with other.factory() as session, session.begin():
        text = matcher(other).match_text(session=session, found=signed, bound=0.8)
    assert [(m.bank.name, m.kind, m.score) for m in text] == [("shared", "minhash", 1.0)]
    assert matcher(other).rebuilds == 2  # the text index, built at its first lookup


def test_a_removed_entry_stops_matching_in_every_process(runtime: Runtime, other: Runtime) -> None:
    bank = make_bank(runtime)
    case_id = uuid.uuid4()
    add(runtime, bank, [EntryIn(kind="pdq", value=FIRST)])
    add(runtime, bank, [EntryIn(kind="pdq", value=SECOND, label=f"case {case_id}")])
    assert pdq_hits(other, SECOND) == ["shared:0"] and pdq_hits(runtime, SECOND) == ["shared:0"]

    with runtime.factory() as session, session.begin():
        removed = banks.remove_case_entries(
            session=session, bank_id=bank.id, case_id=case_id, actor=ACTOR
        )
    assert removed == 1
    assert pdq_hits(other, SECOND) == [] and pdq_hits(runtime, SECOND) == []
    assert pdq_hits(other, FIRST) == ["shared:0"]
    # The removed entry had the largest id: the next entry gets a larger one (SQLite would
    # otherwise hand the same id out again, and the processes that saw it would skip it).
    add(runtime, bank, [EntryIn(kind="pdq", value=THIRD)])
    assert pdq_hits(other, THIRD) == ["shared:0"]
    assert matcher(other).rebuilds == 1 and matcher(runtime).rebuilds == 1


def test_a_writer_of_entries_waits_for_the_one_before_it(runtime: Runtime) -> None:
    """Ids are committed in the order they are given out: a second transaction adding another
    hash waits for the first to commit (PostgreSQL: the writers' lock; SQLite: BEGIN
    IMMEDIATE), so no process can read an id before a smaller one is committed."""
    bank = make_bank(runtime)
    done: list[str] = []
    with runtime.factory() as first, first.begin():
        banks.add_entries(
            session=first, bank=bank, entries=[EntryIn(kind="pdq", value=FIRST)], actor=ACTOR
        )

        def second() -> None:
            add(runtime, bank, [EntryIn(kind="pdq", value=SECOND)])
            done.append("second")

        worker = threading.Thread(target=second)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive() and done == []  # waiting for the first transaction
        if runtime.engine.dialect.name == "postgresql":
            # ... before it was given an id (a sequence is outside transactions: the id
            # handed out last shows from any connection)
            with runtime.engine.connect() as conn:
                given = conn.execute(text("SELECT last_value FROM bank_entries_id_seq"))
                assert given.scalar_one() == 1
    worker.join(timeout=30)
    assert done == ["second"]
