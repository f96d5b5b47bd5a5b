"""Rules on ingest: signals, review cases and removals by rule; reload and check, API and CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.config import Settings
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tests.commands import tanggap
from tests.factories import Tokens, bearer, post_body, row_counts, run_triage

RULES = """version: 1
rules:
  - id: test.review-me
    category: drugs
    keywords: [sabu murah]
    effect: {open_case: true}
  - id: test.take-down
    category: fraud
    domains: [klaim-bantuan.example.net]
    effect: {auto_remove: true}
"""


@pytest.fixture
def ruled(settings: Settings, tmp_path: Path) -> Iterator[tuple[Runtime, TestClient, Path]]:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "test.yaml").write_text(RULES, encoding="utf-8")
    runtime = build_runtime(settings.model_copy(update={"rules_dir": rules_dir}))
    with TestClient(create_app(runtime=runtime, run_dispatcher=False)) as client:
        yield runtime, client, rules_dir
    runtime.close()


def ingest(client: TestClient, tokens: Tokens, message_id: int, text: str) -> None:
    answer = client.post(
        "/v1/posts",
        json=post_body(message_id=message_id, text=text),
        headers=bearer(tokens.platform),
    )
    assert answer.status_code == 201, answer.text


def test_the_packaged_rules_flag_without_acting(client: TestClient, tokens: Tokens) -> None:
    ingest(client, tokens, 1, "Bocoran p0la gacooor malam ini, depo pulsa bisa bosku")
    signals = client.get("/v1/posts/beritakita/1/signals", headers=bearer(tokens.reviewer)).json()
    assert [(s["kind"], s["source"]) for s in signals] == [("rule", "rule:gambling.slot-promo")]
    assert signals[0]["detail"]["effect"] == "flag" and signals[0]["score"] == 0.6
    assert client.get("/v1/cases", headers=bearer(tokens.reviewer)).json()["total"] == 0


def test_rules_open_a_case_or_remove_at_once(
    ruled: tuple[Runtime, TestClient, Path], tokens: Tokens
) -> None:
    _, client, _ = ruled
    ingest(client, tokens, 1, "Ada sabu murah, pesan lewat DM")
    ingest(client, tokens, 2, "Bantuan Rp2 juta, klaim di https://klaim-bantuan.example.net/form")
    cases = client.get("/v1/cases?state=open&state=decided", headers=bearer(tokens.admin)).json()
    by_category = {c["category"]: c for c in cases["cases"]}
    assert by_category["drugs"]["state"] == "open" and by_category["drugs"]["automated"]
    assert by_category["fraud"]["state"] == "decided"
    assert client.get("/c/beritakita/2").status_code == 410
    assert client.get("/c/beritakita/1").status_code == 200


def test_a_broken_reload_is_refused_and_the_rules_stay(
    ruled: tuple[Runtime, TestClient, Path], tokens: Tokens
) -> None:
    runtime, client, rules_dir = ruled
    listed = client.get("/v1/rules", headers=bearer(tokens.reviewer)).json()
    assert [r["id"] for r in listed["rules"]] == ["test.review-me", "test.take-down"]
    (rules_dir / "test.yaml").write_text(RULES.replace("[sabu murah]", "[sabu murah"), "utf-8")
    before = row_counts(runtime)
    refused = client.post("/v1/rules/reload", headers=bearer(tokens.admin))
    assert refused.status_code == 422 and "test.yaml" in refused.json()["error"]["message"]
    assert client.post("/v1/rules/reload", headers=bearer(tokens.reviewer)).status_code == 403
    listed = client.get("/v1/rules", headers=bearer(tokens.reviewer)).json()
    assert len(listed["rules"]) == 2 and "not valid YAML" in listed["last_error"]
    assert row_counts(runtime) == before
    ingest(client, tokens, 3, "sabu murah lagi")  # the rules in force still act
    assert client.get("/v1/cases", headers=bearer(tokens.admin)).json()["total"] == 1
    (rules_dir / "test.yaml").write_text(RULES.replace("sabu murah", "ganja murah"), "utf-8")
    reloaded = client.post("/v1/rules/reload", headers=bearer(tokens.admin))
    assert reloaded.status_code == 200 and reloaded.json()["last_error"] is None


def test_tanggap_rules_check(database_url: str, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(RULES, encoding="utf-8")
    done = tanggap("rules", "check", str(good), database_url=database_url)
    assert done.returncode == 0 and "2 rules" in done.stdout, done.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(RULES.replace("category: drugs", "category: narkoba"), encoding="utf-8")
    refused = tanggap("rules", "check", str(bad), database_url=database_url)
    assert refused.returncode == 2 and "unknown category 'narkoba'" in refused.stderr
    regex = tmp_path / "regex.yaml"
    regex.write_text(RULES.replace("keywords: [sabu murah]", "regex: ['[a-']"), encoding="utf-8")
    refused = tanggap("rules", "check", str(regex), database_url=database_url)
    assert (
        refused.returncode == 2
        and f"{regex}:5:" in refused.stderr
        and "Traceback" not in refused.stderr
    )


def test_the_classifier_leaves_a_signal_that_triage_weighs(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    text = (
        "Selamat! No anda terpilih mendapatkan hadiah cek tunai Rp 175 juta dari undian. "
        "Info pin pemenang hubungi kami di nomor ini"
    )
    ingest(client, tokens, 1, text)
    signals = client.get("/v1/posts/beritakita/1/signals", headers=bearer(tokens.reviewer)).json()
    fraud = [s for s in signals if s["source"] == "classifier:fraud"]
    assert len(fraud) == 1 and fraud[0]["detail"]["category"] == "fraud" and fraud[0]["score"] > 0.5
    receipt = client.post(
        "/v1/reports",
        json={"target": "t.me/beritakita/1", "category": "fraud"},
        headers=bearer(tokens.flagger),
    ).json()
    run_triage(runtime)
    case = client.get(f"/v1/cases/{receipt['case_id']}", headers=bearer(tokens.reviewer)).json()
    factors = {f["factor"]: f for f in case["priority_explained"]["factors"]}
    assert float(factors["signals"]["value"]) >= fraud[0]["score"] - 0.01


NEW_RULE = """
  - id: test.new-scam
    category: fraud
    keywords: [undian berhadiah mobil]
    effect: {auto_remove: true}
"""


def rule_sources(client: TestClient, tokens: Tokens, message_id: int) -> list[str]:
    signals = client.get(
        f"/v1/posts/beritakita/{message_id}/signals", headers=bearer(tokens.reviewer)
    ).json()
    return [s["source"] for s in signals if s["kind"] == "rule"]


def test_a_new_rule_scans_the_stored_posts_once(
    ruled: tuple[Runtime, TestClient, Path], tokens: Tokens, database_url: str
) -> None:
    from tanggap.jobs import scan_round

    runtime, client, rules_dir = ruled
    while scan_round(runtime):  # the first look records the rules in force, scanning nothing
        pass
    ingest(client, tokens, 1, "Selamat! Anda menang undian berhadiah mobil, hubungi kami")
    ingest(client, tokens, 2, "Ada sabu murah, pesan lewat DM")
    ingest(client, tokens, 3, "Cuaca cerah di Bandung hari ini")
    assert client.get("/c/beritakita/1").status_code == 200  # no rule knows it yet

    (rules_dir / "test.yaml").write_text(RULES + NEW_RULE, encoding="utf-8")
    reloaded = client.post("/v1/rules/reload", headers=bearer(tokens.admin)).json()
    scan_id = reloaded["scan_id"]
    assert scan_id
    status = client.get(f"/v1/scans/{scan_id}", headers=bearer(tokens.reviewer)).json()
    assert (status["bank"], status["rules"], status["state"], status["total"]) == (
        None,
        ["test.new-scam"],
        "pending",
        3,
    )
    assert client.post("/v1/rules/reload", headers=bearer(tokens.admin)).json()["scan_id"] is None
    ingest(client, tokens, 4, "undian berhadiah mobil lagi")  # after the reload: caught on ingest
    while scan_round(runtime):
        pass
    runtime.deliver_actions()
    status = client.get(f"/v1/scans/{scan_id}", headers=bearer(tokens.reviewer)).json()
    # Post 4 came within the minute the other processes may take to reload: scanned, and
    # already matched on ingest, so not counted again.
    assert (status["state"], status["scanned"], status["matched"]) == ("done", 4, 1)
    assert client.get("/c/beritakita/1").status_code == 410
    assert client.get("/c/beritakita/4").status_code == 410
    assert client.get("/c/beritakita/3").status_code == 200
    assert rule_sources(client, tokens, 1) == ["rule:test.new-scam"]
    # The review rule already matched post 2 on ingest: the scan did not look for it again.
    assert rule_sources(client, tokens, 2) == ["rule:test.review-me"]

    # Changing a rule scans for that rule only; nothing is removed twice.
    changed = RULES.replace("sabu murah", "sabu murah, sabu lewat DM") + NEW_RULE
    (rules_dir / "test.yaml").write_text(changed, encoding="utf-8")
    rescan = client.post("/v1/rules/reload", headers=bearer(tokens.admin)).json()
    status = client.get(f"/v1/scans/{rescan['scan_id']}", headers=bearer(tokens.admin)).json()
    assert status["rules"] == ["test.review-me"]
    while scan_round(runtime):
        pass
    assert rule_sources(client, tokens, 2) == ["rule:test.review-me"]
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM actions")).scalar_one() == 2
    where = {"TANGGAP_RULES_DIR": str(rules_dir)}
    cli = tanggap("scan", "--rules", database_url=database_url, **where)
    assert cli.returncode == 0 and "no new or changed rules" in cli.stdout, cli.stderr
    extra = NEW_RULE.replace("new-scam", "cli-scam").replace(
        "undian berhadiah mobil", "cuaca cerah"
    )
    (rules_dir / "more.yaml").write_text("version: 1\nrules:" + extra, encoding="utf-8")
    cli = tanggap("scan", "--rules", database_url=database_url, **where)
    assert cli.returncode == 0 and "4 posts, 1 new matches" in cli.stdout, cli.stderr
    assert client.get("/c/beritakita/3").status_code == 410
    both = tanggap("scan", "--rules", "--bank", "x", database_url=database_url)
    assert both.returncode == 2 and "either --bank NAME or --rules" in both.stderr
