"""The EU Transparency Database's statement: built from the public statement of reasons, checked
field by field as the database checks it, and the settings that turn submission on."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from tanggap.appeals.schemas import Redress, StatementOfReasons
from tanggap.config import Settings
from tanggap.eu_database import fields
from tanggap.eu_database.build import PostFacts, build, eea_scope, puid_of
from tanggap.eu_database.validate import problems

DECIDED = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
VISIBILITY = {
    "remove": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "ban_member": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "geo_restrict": "DECISION_VISIBILITY_CONTENT_DISABLED",
}


def public_statement(
    outcome: str = "remove",
    ground: str = "terms",
    explanation: str = "A fake prize that asks for banking codes.",
    countries: list[str] | None = None,
    keyword: str = "KEYWORD_PHISHING",
    **more: Any,
) -> StatementOfReasons:
    """A public statement of reasons as ``appeals.statement.of_decision`` builds it."""
    values: dict[str, Any] = {
        "decision_id": uuid.UUID(int=7),
        "channel": "beritakita",
        "message_id": 1,
        "url": "https://t.me/beritakita/1",
        "restriction": "removal",
        "decision_visibility": VISIBILITY.get(outcome),
        "decision_account": "DECISION_ACCOUNT_SUSPENDED"
        if outcome in ("ban_channel", "ban_member")
        else None,
        "territorial_scope": countries if outcome == "geo_restrict" else ["*"],
        "facts_and_circumstances": explanation,
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"
        if ground == "law"
        else "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "legal_ground": "UU ITE Art. 28(1)" if ground == "law" else None,
        "incompatible_content_ground": "terms/fraud" if ground == "terms" else None,
        "category": "fraud",
        "category_name": "Fraud and scams",
        "dsa_category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        "dsa_keyword": keyword,
        "source_type": "SOURCE_TRUSTED_FLAGGER",
        "automated_detection": False,
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "decided_at": DECIDED,
        "application_date": None,
        "appeal": None,
        "redress": Redress(
            internal_complaint="-",
            internal_complaint_until=DECIDED,
            out_of_court_settlement="-",
            judicial_redress="-",
        ),
    }
    values.update(more)
    return StatementOfReasons(**values)


POST = PostFacts(
    posted_at=DECIDED - timedelta(days=2), has_text=True, has_media=False, language="id"
)


def valid() -> dict[str, object]:
    return build(public_statement(), POST)


def test_a_removal_reads_as_the_database_wants_it() -> None:
    body = valid()
    assert problems(body) == []
    assert body["puid"] == f"tanggap-decision-{uuid.UUID(int=7)}"
    assert body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert body["incompatible_content_ground"] == "terms/fraud"
    assert "illegal_content_legal_ground" not in body
    assert body["category_specification"] == ["KEYWORD_PHISHING"]
    assert body["content_language"] == "ID"
    assert (body["content_date"], body["application_date"]) == ("2026-12-01", "2026-12-03")
    assert body["territorial_scope"] == sorted(fields.EEA) and len(fields.EEA) == 30
    assert body["end_date_account_restriction"] is None


def test_a_member_ban_on_legal_grounds_names_the_law_and_the_account() -> None:
    body = build(public_statement("ban_member", "law"), POST)
    assert problems(body) == []
    assert body["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert body["illegal_content_legal_ground"] == "UU ITE Art. 28(1)"
    assert "incompatible_content_ground" not in body


def test_a_geo_restriction_keeps_only_the_eea_countries() -> None:
    assert eea_scope(["ID", "de", "MY", "FR"]) == ["DE", "FR"]
    assert eea_scope(["ID", "MY"]) == []
    assert eea_scope(["*"]) == sorted(fields.EEA)


def test_keyword_other_says_what_in_words() -> None:
    body = build(public_statement(keyword="KEYWORD_OTHER"), POST)
    assert body["category_specification_other"] == "Fraud and scams"
    assert problems(body) == []


@settings(max_examples=150, deadline=None)
@given(
    outcome=st.sampled_from(["remove", "geo_restrict", "ban_channel", "ban_member"]),
    ground=st.sampled_from(["law", "terms"]),
    explanation=st.text(min_size=1, max_size=5000),
    countries=st.lists(st.sampled_from([*sorted(fields.EEA), "ID", "MY", "US"]), min_size=1),
    posted=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 12, 3)),
    language=st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["id", "en", "und"])),
    media=st.booleans(),
    text=st.booleans(),
    decision=st.uuids(),
)
def test_every_decision_within_tanggaps_limits_builds_a_statement_the_database_takes(
    outcome: str,
    ground: str,
    explanation: str,
    countries: list[str],
    posted: datetime,
    language: str | None,
    media: bool,
    text: bool,
    decision: uuid.UUID,
) -> None:
    statement = public_statement(outcome, ground, explanation, countries, decision_id=decision)
    post = PostFacts(posted.replace(tzinfo=UTC), text, media, language)
    body = build(statement, post)
    if not body["territorial_scope"]:
        return  # outside the EEA: not submitted at all
    assert problems(body) == []
    assert body["puid"] == puid_of(decision)
    assert len(str(body["puid"])) <= 500


MUTATIONS: list[tuple[str, dict[str, object], str]] = [
    ("no ground", {"decision_ground": None}, "decision_ground"),
    ("no content type", {"content_type": []}, "content_type"),
    ("no decision at all", {"decision_visibility": None}, "decision_visibility"),
    ("unknown category", {"category": "STATEMENT_CATEGORY_GOSSIP"}, "category"),
    (
        "old keyword",
        {"category_specification": ["KEYWORD_DISINFORMATION"]},
        "category_specification",
    ),
    ("country outside the EEA", {"territorial_scope": ["ID"]}, "territorial_scope"),
    ("language in lower case", {"content_language": "id"}, "content_language"),
    ("language not ISO 639-1", {"content_language": "XX"}, "content_language"),
    ("facts too long", {"decision_facts": "x" * 5001}, "decision_facts"),
    (
        "explanation too long",
        {"incompatible_content_explanation": "x" * 2001},
        "incompatible_content_explanation",
    ),
    (
        "ground without reference",
        {"incompatible_content_ground": ""},
        "incompatible_content_ground",
    ),
    ("content date before 2000", {"content_date": "1999-12-31"}, "content_date"),
    ("application date before 2020", {"application_date": "2019-06-01"}, "application_date"),
    ("application date after 2038", {"application_date": "2039-01-01"}, "application_date"),
    ("not a date", {"content_date": "03/12/2026"}, "content_date"),
    ("no such day", {"content_date": "2026-02-30"}, "content_date"),
    (
        "end before application",
        {"end_date_account_restriction": "2026-01-01"},
        "end_date_account_restriction",
    ),
    ("puid with a slash", {"puid": "tanggap/1"}, "puid"),
    ("puid too long", {"puid": "p" * 501}, "puid"),
    ("detection not Yes/No", {"automated_detection": True}, "automated_detection"),
    ("unknown source", {"source_type": "SOURCE_TRUSTED_NOTIFIER"}, "source_type"),
    (
        "visibility other unsaid",
        {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]},
        "decision_visibility_other",
    ),
]


@pytest.mark.parametrize(
    ("change", "field"), [(m[1], m[2]) for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_a_statement_the_database_would_refuse_names_the_field(
    change: dict[str, object], field: str
) -> None:
    body = {**valid(), **change}
    assert field in {problem.field for problem in problems(body)}


@given(puid=st.text(min_size=1, max_size=600))
def test_the_puid_alphabet_is_the_databases(puid: str) -> None:
    refused = "puid" in {p.field for p in problems({**valid(), "puid": puid})}
    allowed = re.fullmatch(r"[A-Za-z0-9_-]{1,500}", puid) is not None
    assert refused is not allowed


@given(year=st.integers(min_value=1900, max_value=2100))
def test_content_dates_run_from_2000_to_2038(year: int) -> None:
    body = {**valid(), "content_date": f"{year:04d}-06-01", "application_date": "2026-12-03"}
    refused = "content_date" in {p.field for p in problems(body)}
    assert refused is not (2000 <= year <= 2038)


def test_the_token_is_required_with_the_url_and_never_echoed() -> None:
    with pytest.raises(ValidationError, match="TANGGAP_EU_DATABASE_TOKEN is required") as err:
        Settings(eu_database_url="https://transparency.dsa.ec.europa.eu")
    with pytest.raises(ValidationError, match="TANGGAP_EU_DATABASE_URL is not"):
        Settings(eu_database_token=SecretStr("secret-token-value"))
    assert "secret-token-value" not in str(err.value)
    with pytest.raises(ValidationError, match="eu_database_batch_size"):
        Settings(
            eu_database_url="https://transparency.dsa.ec.europa.eu",
            eu_database_token=SecretStr("t"),
            eu_database_batch_size=101,
        )
    configured = Settings(
        eu_database_url="https://transparency.dsa.ec.europa.eu",
        eu_database_token=SecretStr("t"),
    )
    assert configured.eu_database_batch_size == 100
