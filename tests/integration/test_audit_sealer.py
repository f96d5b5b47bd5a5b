"""The audit log without a lock: appends wait on no one, the sealer chains what committed in one
total order, and signed checkpoints let anyone outside the database catch a rewrite."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.audit.chain import hash_of
from tanggap.audit.export import read_export, verify_export
from tanggap.audit.models import AuditCheckpoint, AuditEvent
from tanggap.audit.sealer import SEAL_BATCH, CheckpointRule, seal
from tanggap.audit.signing import public_hex
from tanggap.db.base import utcnow
from tanggap.flaggers import service as flaggers
from tanggap.flaggers.schemas import FlaggerOrgIn
from tanggap.notify.models import Notification
from tanggap.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.workers import wait_until

NEVER_BY_TIME = CheckpointRule(every=5, seconds=86_400)
TANGGAP = os.path.join(os.path.dirname(sys.executable), "tanggap")


def append(session: Session, action: str, n: int = 0) -> None:
    """Append an event and send it to the database (the transaction stays as it is)."""
    audit.record(session=session, actor="test", action=action, subject_type="t", subject_id=n)
    session.flush()


def append_committed(runtime: Runtime, action: str, count: int = 1) -> None:
    for n in range(count):
        with runtime.factory() as session, session.begin():
            append(session, action, n)


def chain(runtime: Runtime) -> list[str]:
    """The sealed events' actions in chain order."""
    with runtime.factory() as session:
        return list(
            session.execute(
                select(AuditEvent.action)
                .where(AuditEvent.seq.is_not(None))
                .order_by(AuditEvent.seq)
            ).scalars()
        )


def verify(runtime: Runtime, **options: object) -> audit.ChainReport:
    with runtime.factory() as session:
        return audit.verify(session=session, **options)  # type: ignore[arg-type]


def public_key(runtime: Runtime) -> str:
    return public_hex(runtime.checkpoint_key)


@contextmanager
def held_open(runtime: Runtime) -> Iterator[Session]:
    """A transaction the test commits or rolls back itself; closed whatever happens, so that a
    failing test leaves no lock behind."""
    session = runtime.factory()
    session.begin()
    try:
        yield session
    finally:
        session.close()


def only_on_postgresql(database_backend: tuple[str, str]) -> None:
    if database_backend[0] != "postgresql":
        pytest.skip("SQLite has one writer at a time: transactions cannot overlap there")


def test_an_append_waits_on_no_other_transaction(
    runtime: Runtime, database_backend: tuple[str, str]
) -> None:
    only_on_postgresql(database_backend)
    done = threading.Event()

    def other() -> None:
        append_committed(runtime, "test.other")
        done.set()

    thread = threading.Thread(target=other)
    with held_open(runtime) as held:
        append(held, "test.held")
        thread.start()
        # Before, the second append queued on the chain head's row lock until the first ended.
        appended_meanwhile = done.wait(timeout=20)
        held.commit()
    thread.join()
    assert appended_meanwhile, "an append waited on another open transaction"


def test_a_transaction_that_started_first_and_commits_last_is_sealed_in_its_place(
    runtime: Runtime, database_backend: tuple[str, str]
) -> None:
    only_on_postgresql(database_backend)
    with held_open(runtime) as early:
        append(early, "test.early")
        append_committed(runtime, "test.late")
        # The early transaction could still commit: nothing after it may be chained yet.
        sealed_meanwhile = runtime.seal_audit()
        pending = verify(runtime).pending
        early.commit()
    assert (sealed_meanwhile, pending) == (0, 1)
    assert runtime.seal_audit() == 2
    assert chain(runtime) == ["test.early", "test.late"]
    report = verify(runtime)
    assert report.intact and report.checked == 2 and report.pending == 0


def test_a_rolled_back_transaction_holds_the_sealer_only_while_it_runs(
    runtime: Runtime, database_backend: tuple[str, str]
) -> None:
    only_on_postgresql(database_backend)
    with held_open(runtime) as early:
        append(early, "test.rolled_back")
        append_committed(runtime, "test.late")
        sealed_meanwhile = runtime.seal_audit()
        early.rollback()
    assert sealed_meanwhile == 0
    assert runtime.seal_audit() == 1
    assert chain(runtime) == ["test.late"]
    assert verify(runtime).intact


def test_sealers_racing_writers_chain_every_event_once(runtime: Runtime) -> None:
    writers_done = threading.Event()

    def write(worker: int) -> None:
        append_committed(runtime, f"test.writer{worker}", count=60)

    def keep_sealing() -> None:
        while not writers_done.is_set():
            runtime.seal_audit()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    sealers = [threading.Thread(target=keep_sealing) for _ in range(2)]
    for thread in writers + sealers:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    for thread in sealers:
        thread.join()
    runtime.seal_audit()
    report = verify(runtime, public_key=public_key(runtime))
    assert report.intact and report.checked == 240 and report.pending == 0
    actions = chain(runtime)
    assert sorted(actions) == sorted(f"test.writer{n}" for n in range(4) for _ in range(60))
    for n in range(4):  # one writer's events keep their order of commit
        with runtime.factory() as session:
            ids = session.execute(
                select(AuditEvent.id)
                .where(AuditEvent.action == f"test.writer{n}")
                .order_by(AuditEvent.seq)
            ).scalars()
            listed = list(ids)
        assert listed == sorted(listed)


def seal_in_batches(runtime: Runtime, rule: CheckpointRule, limit: int) -> list[int]:
    """Seal everything, ``limit`` events a transaction; return the checkpoints signed."""
    signed = []
    while True:
        with runtime.factory() as session, session.begin():
            done = seal(session=session, key=runtime.checkpoint_key, rule=rule, limit=limit)
        if done.checkpoint is not None:
            signed.append(done.checkpoint.seq)
        if done.sealed == 0:
            return signed


def test_checkpoints_are_signed_every_n_events_and_checked_with_the_public_key(
    runtime: Runtime,
) -> None:
    append_committed(runtime, "test.tick", count=12)
    assert seal_in_batches(runtime, NEVER_BY_TIME, limit=5) == [5, 10]
    report = verify(runtime, public_key=public_key(runtime))
    assert report.intact and report.checkpoints == 2
    other = verify(runtime, public_key="ab" * 32)
    assert other.problem is not None and "signed by another key" in other.problem.reason
    assert other.problem.seq == 5


def test_a_checkpoint_is_signed_when_its_time_comes_with_no_new_event(runtime: Runtime) -> None:
    append_committed(runtime, "test.tick", count=3)
    assert seal_in_batches(runtime, NEVER_BY_TIME, limit=2) == [2]
    later = utcnow() + timedelta(hours=25)
    with runtime.factory() as session, session.begin():
        done = seal(session=session, key=runtime.checkpoint_key, rule=NEVER_BY_TIME, now=later)
    assert done.sealed == 0 and done.checkpoint is not None and done.checkpoint.seq == 3


def rewrite_from(runtime: Runtime, seq: int, *, drop_checkpoints: bool) -> None:
    """Change event ``seq`` and re-hash everything after it, head included, as someone with
    write access to the database would."""
    with runtime.factory() as session, session.begin():
        events = session.execute(
            select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)
        ).scalars()
        previous = session.execute(
            select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)
        ).scalar_one()
        for event in events:
            if event.seq == seq:
                event.data = '{"note":"nothing happened"}'
            event.prev_hash = previous
            event.hash = previous = hash_of(event, seq=event.seq or 0, prev_hash=previous)
        session.execute(
            text("UPDATE audit_chain_head SET last_hash = :h WHERE id = 1"), {"h": previous}
        )
        if drop_checkpoints:
            session.execute(text("DELETE FROM audit_checkpoints"))


def test_a_consistent_rewrite_is_caught_by_its_checkpoint_or_an_earlier_export(
    runtime: Runtime,
) -> None:
    append_committed(runtime, "test.tick", count=10)
    runtime.seal_audit()
    with runtime.factory() as session:
        kept = read_export(audit.export_lines(session=session))
    key = public_key(runtime)
    assert verify_export(kept, public_key=key).problem is None

    rewrite_from(runtime, 4, drop_checkpoints=False)
    signed = verify(runtime, public_key=key)
    assert signed.problem is not None and signed.problem.seq == 10
    assert "does not match its signed checkpoint" in signed.problem.reason

    rewrite_from(runtime, 4, drop_checkpoints=True)
    # With its checkpoints gone, the database agrees with itself…
    assert verify(runtime, public_key=key).intact
    # …but not with the copy kept outside it, which names the first rewritten event.
    against = verify(runtime, public_key=key, against=kept)
    assert against.problem is not None and against.problem.seq == 4
    assert "differs from the copy exported" in against.problem.reason


def test_an_export_is_verified_with_the_public_key_alone(runtime: Runtime) -> None:
    append_committed(runtime, "test.tick", count=6)
    runtime.seal_audit()
    with runtime.factory() as session:
        lines = list(audit.export_lines(session=session))
        tail = list(audit.export_lines(session=session, since=3))
    key = public_key(runtime)
    whole = verify_export(read_export(lines), public_key=key)
    assert whole.problem is None and whole.events == 6 and whole.checkpoints == 1
    assert verify_export(read_export(tail), public_key=key).events == 3
    altered = [line.replace('"subject_id":"2"', '"subject_id":"9"') for line in lines]
    broken = verify_export(read_export(altered), public_key=key)
    assert broken.problem is not None and broken.problem.seq == 3
    assert "altered" in broken.problem.reason
    assert verify_export(read_export(lines), public_key="cd" * 32).problem is not None


def test_checkpoints_are_published_to_organisations_and_at_a_public_endpoint(
    runtime: Runtime, client: TestClient
) -> None:
    with runtime.factory() as session, session.begin():
        org = flaggers.create(
            session=session,
            data=FlaggerOrgIn(name="Desk", country="ID", webhook_url="https://desk.example/hook"),
        )
        flaggers.create(session=session, data=FlaggerOrgIn(name="No hook", country="ID"))
    runtime.seal_audit()
    with runtime.factory() as session:
        queued = session.execute(
            select(Notification).where(Notification.event == "audit.checkpoint")
        ).scalars()
        sent = [(n.org_id, n.body) for n in queued]
        stored = session.execute(select(AuditCheckpoint)).scalar_one()
    assert [org_id for org_id, _ in sent] == [org.id]
    assert stored.signature in sent[0][1]
    listed = client.get("/v1/audit/checkpoints")
    assert listed.status_code == 200
    assert [(c["seq"], c["signature"]) for c in listed.json()] == [(stored.seq, stored.signature)]
    assert listed.json()[0]["public_key"] == public_key(runtime)
    assert client.get(f"/v1/audit/checkpoints?after={stored.seq}").json() == []
    refused = client.get("/v1/audit/checkpoints?after=-1")
    assert refused.status_code == 422 and "after" in refused.text


def test_verify_reports_the_unsealed_tail_as_pending_with_its_age(runtime: Runtime) -> None:
    append_committed(runtime, "test.tick", count=2)
    report = verify(runtime)
    assert report.intact and report.checked == 0 and report.pending == 2
    assert report.oldest_pending is not None and report.oldest_pending <= utcnow()


def backend_waiting_on_a_lock(runtime: Runtime, statement: str) -> int | None:
    """Return the process id of the server backend whose ``statement`` waits on a lock, if any."""
    with runtime.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE :statement AND pid <> pg_backend_pid()"
            ),
            {"statement": f"{statement}%"},
        ).scalar()


def backend_alive(runtime: Runtime, pid: int) -> bool:
    with runtime.engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
        return found.first() is not None


def test_a_sealer_killed_mid_batch_leaves_nothing_half_chained(
    runtime: Runtime, database_url: str, database_backend: tuple[str, str]
) -> None:
    only_on_postgresql(database_backend)
    backlog = 4 * SEAL_BATCH
    with runtime.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (xid, occurred_at, actor, action, subject_type,"
                " subject_id, data) SELECT pg_current_xact_id()::text::bigint, now(), 'test',"
                " 'test.backlog', 't', g::text, '{}' FROM generate_series(1, :n) g"
            ),
            {"n": backlog},
        )
    environment = {
        **os.environ,
        "TANGGAP_DATABASE_URL": database_url,
        "TANGGAP_SECRET_KEY": TEST_SECRET,
        "TANGGAP_ENV": "test",
    }
    # A row half-way through the second batch, locked: the sealer commits its first batch, then
    # waits on that row in the middle of its second, and is killed there.
    locker = runtime.engine.connect()
    locker.execute(
        text(  # (a locking clause with OFFSET would lock the rows skipped too)
            "SELECT id FROM audit_events WHERE id ="
            " (SELECT id FROM audit_events ORDER BY id OFFSET :n LIMIT 1) FOR UPDATE"
        ),
        {"n": SEAL_BATCH + SEAL_BATCH // 2},
    )
    sealer = subprocess.Popen([TANGGAP, "audit", "seal"], env=environment)
    blocked: list[int] = []  # the server process of the sealer's blocked UPDATE

    def sealer_blocked() -> bool:
        assert sealer.poll() is None, "the sealer ended before it reached the locked row"
        blocked[:] = [backend_waiting_on_a_lock(runtime, "UPDATE audit_events") or 0]
        return bool(blocked[0])

    try:
        assert wait_until(sealer_blocked, timeout=120)
        assert verify(runtime).checked == SEAL_BATCH  # the first batch is in, the second is not
    finally:
        sealer.kill()
        sealer.wait()
        locker.rollback()
        locker.close()
    # Its server side ends once the row is free and it finds its client gone.
    assert wait_until(lambda: not backend_alive(runtime, blocked[0]), timeout=120)
    report = verify(runtime)
    assert report.intact and report.checked == SEAL_BATCH
    assert report.pending == backlog - report.checked
    runtime.seal_audit()
    after = verify(runtime)
    assert after.intact and after.checked == backlog and after.pending == 0
