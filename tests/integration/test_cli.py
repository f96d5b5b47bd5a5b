"""The ``tanggap`` command, run as a user runs it against a real database: its commands through
its entry point in this process, and as a real process where the process itself is checked
(start-up refusals, a new database file)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tanggap.auth import service as auth
from tanggap.runtime import Runtime
from tests.commands import TANGGAP, tanggap


def test_token_create_prints_only_a_working_token(database_url: str, runtime: Runtime) -> None:
    made = tanggap(
        "reviewer", "create", "rina@example.org", "--languages", "id,en", database_url=database_url
    )
    assert made.returncode == 0, made.stderr
    done = tanggap(
        "token",
        "create",
        "--role",
        "reviewer",
        "--user",
        "rina@example.org",
        database_url=database_url,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert re.fullmatch(r"tgp_[A-Za-z0-9_-]{40,}", token) and done.stdout.count("\n") == 1
    with runtime.factory() as session:
        caller = auth.authenticate(session=session, token=token)
    assert caller is not None and caller.role == "reviewer"


def test_flagger_tokens_belong_to_an_organisation(database_url: str, runtime: Runtime) -> None:
    created = tanggap(
        "flagger", "create", "--name", "Cyber Desk", "--country", "id", database_url=database_url
    )
    assert created.returncode == 0, created.stderr
    first, second = created.stdout.splitlines()
    org_id = uuid.UUID(first)
    assert re.fullmatch(r"webhook secret: whsec_[A-Za-z0-9_-]{40,}", second)
    done = tanggap(
        "token", "create", "--role", "flagger", "--org", "cyber desk", database_url=database_url
    )
    assert done.returncode == 0, done.stderr
    with runtime.factory() as session:
        caller = auth.authenticate(session=session, token=done.stdout.strip())
    assert caller is not None and caller.org_id == org_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "create", "--role", "superuser"), "--role"),
        (("token", "create", "--role", "flagger"), "--org"),
        (("token", "create", "--role", "flagger", "--org", "Nobody"), "no flagger organisation"),
        (("token", "create", "--role", "platform", "--org", "Nobody"), "--org"),
        (("flagger", "create", "--name", "X Desk", "--country", "Indonesia"), "--country"),
        (("flagger", "create", "--name", "X Desk", "--country", "ID", "--trust", "max"), "--trust"),
        (("actions", "list", "--state", "lost"), "--state"),
        (("actions", "retry", "not-a-uuid"), "UUID"),
        (("actions", "retry", "00000000-0000-4000-8000-000000000000"), "no action"),
    ],
)
def test_bad_arguments_exit_non_zero_and_write_nothing(
    database_url: str, runtime: Runtime, args: tuple[str, ...], message: str
) -> None:
    with runtime.engine.connect() as conn:
        before = conn.execute(text("SELECT last_seq FROM audit_chain_head")).scalar_one()
    done = tanggap(*args, database_url=database_url)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT last_seq FROM audit_chain_head")).scalar_one() == before


def test_a_duplicate_organisation_is_refused(database_url: str) -> None:
    args = ("flagger", "create", "--name", "Cyber Desk", "--country", "ID")
    assert tanggap(*args, database_url=database_url).returncode == 0
    again = tanggap(*args, database_url=database_url)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_audit_verify_passes_then_names_the_altered_event(
    database_url: str, runtime: Runtime
) -> None:
    assert (
        tanggap(
            "flagger", "create", "--name", "Desk", "--country", "ID", database_url=database_url
        ).returncode
        == 0
    )
    pending = tanggap("audit", "verify", database_url=database_url)
    assert pending.returncode == 0 and "intact: 0 events sealed" in pending.stdout
    assert "1 events pending" in pending.stdout
    assert tanggap("audit", "seal", database_url=database_url).returncode == 0
    intact = tanggap("audit", "verify", database_url=database_url)
    assert intact.returncode == 0
    assert "intact: 1 events sealed, 1 signed checkpoints" in intact.stdout
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET data = '{}' WHERE seq = 1"))
    broken = tanggap("audit", "verify", database_url=database_url)
    assert broken.returncode == 1
    assert "event 1" in broken.stderr and "altered" in broken.stderr


def test_the_demo_loads_once_and_prints_the_same_tokens(
    database_url: str, runtime: Runtime
) -> None:
    first = tanggap("demo", "load", database_url=database_url, env="development")
    assert first.returncode == 0, first.stderr
    assert "demo loaded: 6 channels, 50 posts" in first.stderr
    again = tanggap("demo", "load", database_url=database_url, env="development")
    assert again.returncode == 0 and "already loaded" in again.stderr
    assert again.stdout == first.stdout
    names = dict(line.split("=", 1) for line in first.stdout.split())
    assert set(names) == {
        "TANGGAP_DEMO_PLATFORM_TOKEN",
        "TANGGAP_DEMO_FLAGGER_TOKEN",
        "TANGGAP_DEMO_REVIEWER_TOKEN",
        "TANGGAP_DEMO_LEAD_TOKEN",
        "TANGGAP_DEMO_ADMIN_TOKEN",
        "TANGGAP_DEMO_LEGAL_TOKEN",
    }
    with runtime.factory() as session:
        roles = {
            name: getattr(auth.authenticate(session=session, token=token), "role", None)
            for name, token in names.items()
        }
    assert roles["TANGGAP_DEMO_FLAGGER_TOKEN"] == "flagger"
    assert roles["TANGGAP_DEMO_LEGAL_TOKEN"] == "legal"
    assert "legal register: " in first.stderr and "demo-legal@tanggap.invalid" in first.stderr
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM posts")).scalar_one() == 50
        assert conn.execute(text("SELECT COUNT(*) FROM cases")).scalar_one() >= 5
    assert tanggap("audit", "verify", database_url=database_url).returncode == 0


def test_the_demo_refuses_to_load_outside_development(database_url: str) -> None:
    done = tanggap("demo", "load", database_url=database_url, env="production")
    assert done.returncode == 1 and "TANGGAP_ENV=development" in done.stderr


def test_the_default_secret_key_is_refused_in_production(tmp_path: Path) -> None:
    environment = {**os.environ, "TANGGAP_ENV": "production"}
    environment.pop("TANGGAP_SECRET_KEY", None)
    environment["TANGGAP_DATABASE_URL"] = f"sqlite:///{tmp_path}/x.db"
    done = subprocess.run(
        [TANGGAP, "db", "upgrade"], env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "TANGGAP_SECRET_KEY" in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_db_upgrade_creates_and_migrates_a_new_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/tanggap.db"
    done = tanggap("db", "upgrade", database_url=url, process=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "nested/dir/tanggap.db").exists()
    assert tanggap("audit", "verify", database_url=url).returncode == 0


def test_a_broken_policy_file_stops_the_command_with_its_reason(
    database_url: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ncategories: []\n")
    done = tanggap(
        "token", "create", "--role", "admin",
        database_url=database_url, TANGGAP_POLICY_FILE=str(policy),
    )  # fmt: skip
    assert done.returncode == 1 and "policy file" in done.stderr and "Traceback" not in done.stderr


def test_an_auditor_checks_an_export_with_the_public_key_alone(
    database_url: str, tmp_path: Path
) -> None:
    args = ("flagger", "create", "--name", "Desk", "--country", "ID")
    assert tanggap(*args, database_url=database_url).returncode == 0
    assert tanggap("audit", "seal", database_url=database_url).returncode == 0
    key = tanggap("audit", "key", database_url=database_url).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    exported = tanggap("audit", "export", database_url=database_url)
    copy = tmp_path / "audit.jsonl"
    copy.write_text(exported.stdout, encoding="utf-8")

    alone = tanggap("audit", "verify", "--file", str(copy), "--key", key, database_url="")
    assert alone.returncode == 0, alone.stderr
    assert "export intact: 1 events, 1 checkpoints" in alone.stdout
    against = tanggap(
        "audit", "verify", "--against", str(copy), "--key", key, database_url=database_url
    )
    assert against.returncode == 0 and "matches the export" in against.stdout

    copy.write_text(exported.stdout.replace("Desk", "Dusk"), encoding="utf-8")
    altered = tanggap("audit", "verify", "--file", str(copy), "--key", key, database_url="")
    assert altered.returncode == 1 and "event 1" in altered.stderr

    copy.write_text("not json\n", encoding="utf-8")
    unreadable = tanggap("audit", "verify", "--file", str(copy), "--key", key, database_url="")
    assert unreadable.returncode == 2 and "line 1" in unreadable.stderr
    keyless = tanggap("audit", "verify", "--file", str(copy), database_url="")
    assert keyless.returncode == 2 and "--key" in keyless.stderr
    bad_key = tanggap("audit", "verify", "--key", "nope", database_url=database_url)
    assert bad_key.returncode == 2 and "--key" in bad_key.stderr


def test_a_missing_checkpoint_key_stops_the_start_outside_development(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    for command in (("audit", "seal"), ("serve", "--port", "0")):
        done = tanggap(*command, database_url=url, env="production", process=True)
        assert done.returncode == 1, done.stderr
        assert "TANGGAP_AUDIT_KEY_FILE" in done.stderr and "Traceback" not in done.stderr


def test_a_command_run_in_process_leaves_the_tests_logging_as_it_was(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = [(handler, list(handler.filters)) for handler in root.handlers]
    levels = {name: logging.getLogger(name).level for name in ("alembic", "httpx", "")}
    done = tanggap("db", "upgrade", database_url=f"sqlite:///{tmp_path}/x.db")
    assert done.returncode == 0, done.stderr
    assert [(handler, list(handler.filters)) for handler in root.handlers] == before
    assert {name: logging.getLogger(name).level for name in levels} == levels
