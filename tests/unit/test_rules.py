"""Rules as data: matching on normalised text; broken rule files refused with line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tanggap.config import DEFAULT_RULES_DIR, Settings
from tanggap.detection.rules_live import LiveRules
from tanggap.detectors.rules import RuleError, load_dir, load_file
from tanggap.policy.service import load_policy

POLICY = load_policy(Settings().policy_file)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_rules_match_evasive_spellings_by_language() -> None:
    rules = load_dir(DEFAULT_RULES_DIR)
    hits = rules.match("Bocoran P0LA GACOOOR jam 9, dep0 pulsa bisa, link alt", "id")
    assert [h.rule.id for h in hits] == ["gambling.slot-promo"]
    assert hits[0].matched in ("pola gacor", "bocoran pola")
    assert rules.match("Bocoran pola gacor jam 9", "en") == []  # an Indonesian-only rule
    otp = rules.match("Selamat! Kirim kode OTP kamu ke admin", "ms")
    assert [h.rule.id for h in otp] == ["fraud.otp-request"]  # no language: any language
    assert rules.match("Resep nasi goreng kampung yang enak", "id") == []
    assert [h.rule.id for h in rules.match("Ayo depo 50 rb sekarang", "id")] == [
        "gambling.deposit-bonus"
    ]


def test_whole_words_only_and_domains_by_suffix(tmp_path: Path) -> None:
    write(
        tmp_path,
        "r.yaml",
        "version: 1\nrules:\n"
        "  - id: t.word\n    category: fraud\n    keywords: [otp]\n    effect: {flag: 0.5}\n"
        "  - id: t.domain\n    category: fraud\n    domains: [scam.example]\n"
        "    effect: {open_case: true}\n",
    )
    rules = load_dir(tmp_path)
    assert rules.match("kirim otp sekarang", None)[0].rule.id == "t.word"
    assert rules.match("photographer notpad", None) == []
    hits = rules.match("klik https://login.scam.example/x atau scam.example", None)
    assert [h.rule.id for h in hits] == ["t.domain"]
    assert rules.match("https://notscam.example.org", None) == []


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "version: 1\nrules:\n  - id: a.b\n    category: fraud\n    regex: ['(unclosed']\n"
            "    effect: {flag: 0.3}\n",
            ":5: rules.0.regex: regex[0]",
        ),
        (
            "version: 1\nrules:\n  - id: ok.one\n    category: fraud\n    keywords: [x]\n"
            "    effect: {flag: 0.3}\n  - id: B A D\n    category: fraud\n    keywords: [y]\n"
            "    effect: {flag: 0.3}\n",
            ":7: rules.1.id",
        ),
        (
            "version: 1\nrules:\n  - id: a.b\n    category: fraud\n    effect: {flag: 0.3}\n",
            ":3: rules.0: a rule needs keywords",
        ),
        (
            "version: 1\nrules:\n  - id: a.b\n    category: fraud\n    keywords: [x]\n"
            "    effect: {flag: 0.3, auto_remove: true}\n",
            ":6: rules.0.effect",
        ),
        ("version: 1\nrules: [\n", "not valid YAML"),
    ],
)
def test_a_broken_rule_file_is_refused_with_its_line(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, "broken.yaml", text)
    with pytest.raises(RuleError) as refused:
        load_file(path)
    assert str(path) in str(refused.value)
    assert where in str(refused.value), str(refused.value)


def test_a_broken_reload_keeps_the_rules_in_force(tmp_path: Path) -> None:
    good = (
        "version: 1\nrules:\n  - id: t.one\n    category: fraud\n    keywords: [otp]\n"
        "    effect: {flag: 0.5}\n"
    )
    write(tmp_path, "r.yaml", good)
    live = LiveRules(tmp_path, POLICY)
    assert [r.id for r in live.current.rules] == ["t.one"]
    write(tmp_path, "r.yaml", good.replace("category: fraud", "category: scams"))
    outcome = live.reload()
    assert outcome.error and "unknown category 'scams'" in outcome.error
    assert [r.id for r in live.current.rules] == ["t.one"] and live.last_error
    write(tmp_path, "r.yaml", good.replace("t.one", "t.two"))
    assert live.reload().error is None
    assert [r.id for r in live.current.rules] == ["t.two"] and live.last_error is None
    write(tmp_path, "s.yaml", good.replace("t.one", "t.two"))
    assert "unique" in (live.reload().error or "")
