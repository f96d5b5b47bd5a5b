"""Rule files: a valid file loads as written and matches what it lists; anything else is a
RuleError naming the file (and the line where there is one), never another exception."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tanggap.cli import app
from tanggap.config import Settings
from tanggap.detection.rules_live import LiveRules
from tanggap.detectors.normalise import normalise
from tanggap.detectors.rules import Rule, RuleError, RuleSet, load_file
from tanggap.policy.service import category_ids, load_policy

POLICY = load_policy(Settings().policy_file)
ONE_RULE = (
    "version: 1\nrules:\n  - {id: t.one, category: fraud, keywords: [otp], effect: {flag: 0.5}}\n"
)


def with_regex(rule_id: str, pattern: str) -> str:
    """Return a rule file of one rule whose regex is ``pattern``."""
    return (
        f"version: 1\nrules:\n  - id: {rule_id}\n    category: fraud\n"
        f"    regex: ['{pattern}']\n    effect: {{flag: 0.5}}\n"
    )


PYTHON_TEXT = ("Traceback", "maximum recursion", "Exceeds the limit", "too large to convert")
# Text a YAML file may hold: any printable character, line breaks, YAML's own signs.
yaml_text = st.text(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from("[]{}:-&*!|>#'\"\n "),
    ),
    max_size=200,
)
LOWER = "abcdefghijklmnopqrstuvwxyz"
rule_ids = st.builds(
    lambda first, rest: first + rest,
    st.text(LOWER + "0123456789", min_size=1, max_size=1),
    st.text(LOWER + "0123456789_.-", min_size=2, max_size=20),
)
labels = st.text(LOWER + "0123456789-", min_size=1, max_size=10)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(labels, min_size=1, max_size=3),
    st.text(LOWER, min_size=2, max_size=6),
)
words = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def rule_dicts(draw: st.DrawFn, rule_id: str) -> dict[str, Any]:
    """Draw one valid rule as a rule file holds it."""
    rule: dict[str, Any] = {"id": rule_id, "category": draw(st.sampled_from(category_ids(POLICY)))}
    if draw(st.booleans()):
        rule["language"] = draw(st.text(LOWER, min_size=2, max_size=3))
    kinds = draw(st.sets(st.sampled_from(["keywords", "regex", "domains"]), min_size=1))
    if "keywords" in kinds:
        rule["keywords"] = draw(
            st.lists(st.lists(words, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=4)
        )
    if "regex" in kinds:
        # YAML folds a quoted NEL or line separator to a space: not the text a rule author types.
        literal = st.text(st.characters(exclude_characters="\x85\u2028\u2029"), max_size=10)
        rule["regex"] = draw(st.lists(literal.map(re.escape), min_size=1, max_size=3))
    if "domains" in kinds:
        rule["domains"] = draw(st.lists(domains, min_size=1, max_size=3))
    rule["effect"] = draw(
        st.one_of(
            st.floats(0, 1).map(lambda score: {"flag": score}),
            st.just({"open_case": True}),
            st.just({"auto_remove": True}),
        )
    )
    return rule


@st.composite
def rule_files(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw the rules of a valid file: unique ids, one to four rules."""
    ids = draw(st.lists(rule_ids, min_size=1, max_size=4, unique=True))
    return [draw(rule_dicts(rule_id)) for rule_id in ids]


@contextmanager
def rule_file(text: str) -> Iterator[Path]:
    """Write ``text`` as a rule file in a directory of its own."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rules.yaml"
        path.write_text(text, encoding="utf-8")
        yield path


def _loaded_or_refused(text: str) -> list[Rule] | None:
    with rule_file(text) as path:
        try:
            return load_file(path)
        except RuleError as exc:
            message = str(exc)
            assert message.startswith(str(path)), message
            assert not any(t in message for t in PYTHON_TEXT), message
            return None


@settings(max_examples=50)  # each example writes, composes and loads a YAML file
@given(rule_files())
def test_a_valid_rule_file_loads_as_written(rules: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump({"version": 1, "rules": rules}, allow_unicode=True)
    loaded = _loaded_or_refused(text)
    assert loaded == [Rule.model_validate(rule) for rule in rules]


@settings(max_examples=100)
@given(rule_files(), st.data())
def test_a_rule_matches_a_text_holding_its_keyword(
    rules: list[dict[str, Any]], data: st.DataObject
) -> None:
    compiled = RuleSet.compile([Rule.model_validate(rule) for rule in rules], ["drawn"])
    listed = [(rule, k) for rule in rules for k in rule.get("keywords", []) if normalise(k)]
    if not listed:
        return
    rule, keyword = data.draw(st.sampled_from(listed))
    language = rule.get("language")
    hits = compiled.match(f"lihat {keyword} sekarang", language)
    assert rule["id"] in [hit.rule.id for hit in hits]
    assert all(hit.rule.language in (None, language) for hit in hits)


@given(yaml_text)
@example("[" * 1500)
@example("version: 1\nrules:\n" + "  - " * 2000 + "x")
@example("version: 1\nrules: " + "1" * 5000)
@example("")
@example(with_regex("big.repeat", "a{4294967296}"))  # without the fix: OverflowError
@example(with_regex("deep.groups", "(" * 1200 + ")" * 1200))  # without the fix: RecursionError
def test_any_text_is_rules_or_a_rule_error(text: str) -> None:
    _loaded_or_refused(text)


@settings(max_examples=50)
@given(
    st.dictionaries(
        st.sampled_from(
            ["id", "category", "language", "keywords", "regex", "domains", "effect", "other"]
        ),
        json_values,
    )
)
def test_any_rule_fields_are_a_rule_or_a_rule_error_naming_the_field(
    fields: dict[str, Any],
) -> None:
    text = yaml.safe_dump({"version": 1, "rules": [fields]}, allow_unicode=True)
    if _loaded_or_refused(text) is None:
        with rule_file(text) as path, pytest.raises(RuleError, match=r"rules\.0"):
            load_file(path)


def test_a_deeply_nested_file_leaves_the_rules_in_force(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ONE_RULE, encoding="utf-8")
    live = LiveRules(tmp_path, POLICY)
    (tmp_path / "b.yaml").write_text("[" * 1500, encoding="utf-8")
    outcome = live.reload()  # without the fix: RecursionError out of the reload
    assert outcome.error is not None and "nested too deeply" in outcome.error
    assert [rule.id for rule in live.current.rules] == ["t.one"]


@settings(max_examples=25)
@given(yaml_text)
@example("[" * 1500)
@example(ONE_RULE)
def test_the_rules_check_command_answers_without_a_traceback(text: str) -> None:
    with rule_file(text) as path:
        result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert ("ok: 1 rules" in result.output) == (result.exit_code == 0) or result.exit_code == 2
