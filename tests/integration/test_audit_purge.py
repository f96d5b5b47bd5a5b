"""Free text in audit events: purged, the chain still verifies (database and exported file),
and a changed digest or text is still caught; events from before the change are never purged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from tanggap.audit import service as audit
from tanggap.audit.chain import PURGED_TEXT, canonical_json
from tanggap.audit.export import read_export, verify_export
from tanggap.audit.models import AuditEvent
from tanggap.audit.purge import purge_texts
from tanggap.audit.signing import public_hex
from tanggap.db.base import utcnow
from tanggap.db.migrate import alembic_config, upgrade
from tanggap.runtime import Runtime

NOTE = "Saya melihat ini di grup keluarga, tolong hapus — Budi"


def append(runtime: Runtime, note: str = NOTE, action: str = "report.noted") -> None:
    with runtime.factory() as session, session.begin():
        audit.record(
            session=session,
            actor="flagger:test",
            action=action,
            subject_type="report",
            subject_id="r1",
            data={"category": "fraud"},
            free_text={"note": note},
        )


def append_old_style(runtime: Runtime) -> None:
    """An event as written before free text was sealed apart: its data hashed whole."""
    with runtime.factory() as session, session.begin():
        audit.record(
            session=session,
            actor="flagger:test",
            action="report.noted",
            subject_type="report",
            subject_id="r0",
            data={"note": "written before migration 0018"},
        )


def purge(runtime: Runtime, **where: Any) -> int:
    with runtime.factory() as session, session.begin():
        return purge_texts(session=session, now=utcnow(), **where)


def events(runtime: Runtime) -> list[AuditEvent]:
    with runtime.factory() as session:
        return list(session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def verify(runtime: Runtime) -> audit.ChainReport:
    with runtime.factory() as session:
        return audit.verify(session=session, public_key=public_hex(runtime.checkpoint_key))


def exported(runtime: Runtime) -> list[str]:
    with runtime.factory() as session:
        return list(audit.export_lines(session=session))


def test_a_purged_text_keeps_its_digest_and_the_chain_verifies(runtime: Runtime) -> None:
    append_old_style(runtime)
    append(runtime)
    append(runtime, note="kept", action="report.other")
    runtime.seal_audit()
    before = exported(runtime)

    assert purge(runtime, actions=["report.noted"]) == 1

    noted = [e for e in events(runtime) if e.action == "report.noted"]
    old, new = noted
    assert json.loads(new.data)["note"] == PURGED_TEXT and new.purged_at is not None
    assert NOTE not in new.data and NOTE not in (new.free_text or "")
    assert json.loads(old.data)["note"] == "written before migration 0018"  # never touched
    report = verify(runtime)
    assert report.intact and report.purged == 1
    after = exported(runtime)
    assert after != before
    for lines in (before, after):  # the copy made before the purge holds the same hashes
        checked = verify_export(read_export(lines), public_key=public_hex(runtime.checkpoint_key))
        assert checked.problem is None
    assert (
        verify_export(read_export(after), public_key=public_hex(runtime.checkpoint_key)).purged == 1
    )
    with runtime.factory() as session:
        assert audit.verify(session=session, against=read_export(before)).intact


def test_an_event_purged_before_it_is_sealed_chains_and_verifies(runtime: Runtime) -> None:
    append(runtime)
    assert purge(runtime) == 1
    assert runtime.seal_audit() >= 1
    report = verify(runtime)
    assert report.intact and report.purged == 1


def test_purging_again_purges_nothing_and_counts_nothing(runtime: Runtime) -> None:
    append(runtime)
    runtime.seal_audit()
    assert purge(runtime) == 1
    assert purge(runtime) == 0
    assert verify(runtime).intact


def _seq_of(runtime: Runtime, action: str) -> int:
    return next(e.seq for e in events(runtime) if e.action == action and e.seq)


@pytest.mark.parametrize("purged", [True, False])
def test_a_changed_digest_or_text_is_caught(runtime: Runtime, purged: bool) -> None:
    append(runtime)
    runtime.seal_audit()
    if purged:
        purge(runtime)
    seq = _seq_of(runtime, "report.noted")
    event = next(e for e in events(runtime) if e.seq == seq)
    if purged:
        forged = canonical_json({"note": {"sha256": "0" * 64}})
        tamper, value = "UPDATE audit_events SET free_text = :value WHERE seq = :seq", forged
    else:
        changed = json.loads(event.data) | {"note": "a different note"}
        tamper, value = (
            "UPDATE audit_events SET data = :value WHERE seq = :seq",
            canonical_json(changed),
        )
    with runtime.engine.begin() as conn:
        conn.execute(text(tamper), {"value": value, "seq": seq})
    report = verify(runtime)
    assert report.problem is not None
    assert report.problem.seq == seq and "altered" in report.problem.reason
    lines = exported(runtime)
    checked = verify_export(read_export(lines), public_key=public_hex(runtime.checkpoint_key))
    assert checked.problem is not None and checked.problem.seq == seq


@pytest.mark.parametrize(
    "seals", ["not json", canonical_json({"note": {"salt": "zz"}}), canonical_json([1])]
)
def test_a_broken_seal_is_reported_not_a_crash(runtime: Runtime, seals: str) -> None:
    append(runtime)
    runtime.seal_audit()
    seq = _seq_of(runtime, "report.noted")
    with runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET free_text = :value WHERE seq = :seq"),
            {"value": seals, "seq": seq},
        )
    report = verify(runtime)
    assert report.problem is not None and report.problem.seq == seq


def test_a_free_text_cannot_shadow_a_data_field(runtime: Runtime) -> None:
    with runtime.factory() as session, pytest.raises(ValueError, match="note"):
        audit.record(
            session=session,
            actor="x",
            action="report.noted",
            subject_type="report",
            subject_id="r1",
            data={"note": "a"},
            free_text={"note": "b"},
        )


def test_a_chain_sealed_before_migration_0018_still_verifies_after_it(
    runtime: Runtime, database_url: str
) -> None:
    append_old_style(runtime)
    runtime.seal_audit()
    try:
        command.downgrade(alembic_config(database_url), "0015")  # as before free text existed
        with runtime.engine.connect() as conn:
            columns = conn.execute(text("SELECT * FROM audit_events")).keys()
        assert "free_text" not in columns
    finally:
        upgrade(database_url)
    runtime.engine.dispose()
    append(runtime)
    runtime.seal_audit()
    assert purge(runtime) == 1  # the new event only: the old one is hashed whole
    report = verify(runtime)
    assert report.intact and report.checked == 2 and report.purged == 1
