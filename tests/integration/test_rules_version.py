"""The rule set in force, shared by several processes: a reload anywhere records the new version
in the database, and every process reloads its files when the version moves."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.config import Settings
from tanggap.detection.models import RuleSetVersion, Signal
from tanggap.detection.rule_set import VersionStore
from tanggap.detection.rules_live import CHECK_EVERY_SECONDS, LiveRules
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tests.commands import tanggap
from tests.factories import bearer, make_tokens, post_body

RULE = (
    "version: 1\nrules:\n  - id: {id}\n    category: fraud\n    keywords: [otp]\n"
    "    effect: {{flag: 0.5}}\n"
)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "r.yaml").write_text(RULE.format(id="t.one"))
    return directory


@pytest.fixture
def first(settings: Settings, rules_dir: Path) -> Iterator[Runtime]:
    runtime = build_runtime(settings.model_copy(update={"rules_dir": rules_dir}))
    yield runtime
    runtime.close()


@pytest.fixture
def second(settings: Settings, rules_dir: Path) -> Iterator[Runtime]:
    runtime = build_runtime(settings.model_copy(update={"rules_dir": rules_dir}))
    yield runtime
    runtime.close()


def ids(runtime: Runtime | LiveRules) -> list[str]:
    live = runtime.rules if isinstance(runtime, Runtime) else runtime
    return [rule.id for rule in live.current.rules]


def recorded(runtime: Runtime) -> tuple[str, int]:
    with runtime.factory() as session:
        row = session.execute(select(RuleSetVersion)).scalar_one()
        return row.digest, row.counter


def test_a_reload_in_one_process_reaches_the_other_and_a_broken_file_reaches_none(
    first: Runtime, second: Runtime, rules_dir: Path
) -> None:
    second.rules.fresh()  # the first look records the rules loaded at start
    first.rules.fresh()  # the same files: nothing new recorded
    assert recorded(first) == (first.rules.digest, 1)
    assert not second.rules.follow()

    (rules_dir / "r.yaml").write_text(RULE.format(id="t.two"))
    assert first.rules.reload().error is None
    assert recorded(first) == (first.rules.digest, 2)
    assert ids(second) == ["t.one"]
    assert second.rules.follow() and ids(second) == ["t.two"]
    assert second.rules.version is not None and second.rules.version.counter == 2
    assert second.rules.digest == first.rules.digest

    (rules_dir / "r.yaml").write_text(RULE.format(id="t.three").replace("fraud", "nope"))
    refused = first.rules.reload()
    assert refused.error and "unknown category 'nope'" in refused.error
    assert recorded(first)[1] == 2  # nothing recorded: no process is told to reload
    assert not second.rules.follow()
    assert second.rules.reload().error and ids(second) == ["t.two"] and ids(first) == ["t.two"]


def test_every_process_checks_the_version_every_few_seconds(
    first: Runtime, second: Runtime, rules_dir: Path, tmp_path: Path
) -> None:
    # Another machine's copy of the rules, updated keeping the files' times (as rsync -t does):
    # only the recorded version tells that process to reload.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = elsewhere / "r.yaml"
    copy.write_text(RULE.format(id="t.one"))
    now = [100.0]
    live = LiveRules(elsewhere, second.policy, VersionStore(second.factory), clock=lambda: now[0])
    assert [r.id for r in live.fresh().rules] == ["t.one"]  # and records it (the first look)

    (rules_dir / "r.yaml").write_text(RULE.format(id="t.two"))
    assert first.rules.reload().error is None
    stamp = copy.stat()
    copy.write_text(RULE.format(id="t.two"))
    os.utime(copy, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    now[0] += CHECK_EVERY_SECONDS - 1
    assert [r.id for r in live.fresh().rules] == ["t.one"]  # not checked yet
    now[0] += 1
    assert [r.id for r in live.fresh().rules] == ["t.two"]


def test_the_command_line_and_the_api_record_a_reload(
    first: Runtime, second: Runtime, rules_dir: Path, database_url: str
) -> None:
    second.rules.fresh()
    (rules_dir / "r.yaml").write_text(RULE.format(id="t.two"))
    done = tanggap("rules", "reload", database_url=database_url, TANGGAP_RULES_DIR=str(rules_dir))
    assert done.returncode == 0, done.stderr
    assert "rules version 2: 1 rules from 1 files" in done.stdout
    assert second.rules.follow() and ids(second) == ["t.two"]

    (rules_dir / "r.yaml").write_text(RULE.format(id="t.two").replace("fraud", "nope"))
    broken = tanggap("rules", "reload", database_url=database_url, TANGGAP_RULES_DIR=str(rules_dir))
    assert broken.returncode != 0 and "unknown category 'nope'" in broken.stderr
    assert recorded(first)[1] == 2

    (rules_dir / "r.yaml").write_text(RULE.format(id="t.three"))
    tokens = make_tokens(first)
    with TestClient(create_app(runtime=first, run_dispatcher=False)) as client:
        answer = client.post("/v1/rules/reload", headers=bearer(tokens.admin))
    assert answer.status_code == 200, answer.text
    assert recorded(first)[1] == 3
    assert second.rules.follow() and ids(second) == ["t.three"]


def test_a_post_ingested_after_a_reload_elsewhere_meets_the_new_rules(
    first: Runtime, second: Runtime, rules_dir: Path
) -> None:
    """The version is read through the ingest's own transaction (on SQLite a transaction of its
    own would wait for the ingest's lock)."""
    now = [0.0]
    second.rules.clock = lambda: now[0]
    second.rules.fresh()
    (rules_dir / "r.yaml").write_text(RULE.format(id="t.two").replace("otp", "undian"))
    first.rules.reload()
    stamp = (rules_dir / "r.yaml").stat()
    os.utime(rules_dir / "r.yaml", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    now[0] += CHECK_EVERY_SECONDS
    tokens = make_tokens(second)
    with TestClient(create_app(runtime=second, run_dispatcher=False)) as client:
        posted = client.post(
            "/v1/posts",
            json=post_body(text="Selamat, anda menang undian berhadiah"),
            headers=bearer(tokens.platform),
        )
    assert posted.status_code == 201, posted.text
    assert ids(second) == ["t.two"]
    with second.factory() as session:
        sources = session.execute(select(Signal.source)).scalars().all()
    assert "rule:t.two" in sources
