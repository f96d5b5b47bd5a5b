"""Check a statement of reasons field by field against the EU Transparency Database's rules
before it is sent: a statement the database would refuse is kept back, with the field and why."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from tanggap.eu_database import fields as f

DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
PUID = re.compile(r"^[A-Za-z0-9_-]+$")
REQUIRED = (
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
ONE_OF = {
    "decision_monetary": f.DECISION_MONETARY,
    "decision_provision": f.DECISION_PROVISION,
    "decision_account": f.DECISION_ACCOUNT,
    "account_type": f.ACCOUNT_TYPE,
    "decision_ground": f.DECISION_GROUND,
    "incompatible_content_illegal": f.YES_NO,
    "category": f.CATEGORY,
    "content_language": f.LANGUAGES,
    "source_type": f.SOURCE_TYPE,
    "automated_detection": f.YES_NO,
    "automated_decision": f.AUTOMATED_DECISION,
}
LISTS = {
    "decision_visibility": f.DECISION_VISIBILITY,
    "content_type": f.CONTENT_TYPE,
    "category_addition": f.CATEGORY,
    "category_specification": f.KEYWORD,
    "territorial_scope": f.EEA,
}
MAX_LENGTH = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
}
# Values that call for a field of their own: "other" says what, a ground needs its reference.
NEEDS = (
    ("decision_visibility", "DECISION_VISIBILITY_OTHER", ("decision_visibility_other",)),
    ("decision_monetary", "DECISION_MONETARY_OTHER", ("decision_monetary_other",)),
    ("content_type", "CONTENT_TYPE_OTHER", ("content_type_other",)),
    ("category_specification", "KEYWORD_OTHER", ("category_specification_other",)),
    (
        "decision_ground",
        f.ILLEGAL,
        ("illegal_content_legal_ground", "illegal_content_explanation"),
    ),
    (
        "decision_ground",
        f.INCOMPATIBLE,
        ("incompatible_content_ground", "incompatible_content_explanation"),
    ),
)
DATES = {"content_date": 2000, "application_date": 2020}
END_DATES = (
    "end_date_account_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_visibility_restriction",
)
LAST_YEAR = 2038


@dataclass(frozen=True)
class Problem:
    """One field the database would refuse, and why."""

    field: str
    reason: str


def problems(statement: Mapping[str, object]) -> list[Problem]:
    """Return every field of ``statement`` the EU Transparency Database would refuse (none: it
    may be sent)."""
    return list(_problems(statement))


def _present(value: object) -> bool:
    return value is not None and value != "" and value != []


def _problems(statement: Mapping[str, object]) -> Iterator[Problem]:
    for name in REQUIRED:
        if not _present(statement.get(name)):
            yield Problem(name, "is required")
    if not any(_present(statement.get(name)) for name in DECISIONS):
        yield Problem("decision_visibility", f"one of {', '.join(DECISIONS)} is required")
    for name, allowed in ONE_OF.items():
        value = statement.get(name)
        if value is not None and value not in allowed:
            yield Problem(name, f"{str(value)[:80]!r} is not one of the accepted values")
    for name, allowed in LISTS.items():
        yield from _list_problems(name, statement.get(name), allowed)
    for name, limit in MAX_LENGTH.items():
        value = statement.get(name)
        if value is not None and not isinstance(value, str):
            yield Problem(name, "must be text")
        elif isinstance(value, str) and len(value) > limit:
            yield Problem(name, f"must be at most {limit} characters (it has {len(value)})")
    for name, value, needed in NEEDS:
        given = statement.get(name)
        chosen = value in given if isinstance(given, list) else given == value
        for other in needed:
            if chosen and not _present(statement.get(other)):
                yield Problem(other, f"is required when {name} is {value}")
    puid = statement.get("puid")
    if isinstance(puid, str) and puid and not PUID.fullmatch(puid):
        yield Problem("puid", "may hold only letters, digits, '_' and '-'")
    yield from _date_problems(statement)


def _list_problems(name: str, value: object, allowed: frozenset[str]) -> Iterator[Problem]:
    if value is None:
        return
    if not isinstance(value, list):
        yield Problem(name, "must be a list")
        return
    wrong = [item for item in value if item not in allowed]
    if wrong:
        yield Problem(name, f"{str(wrong[0])[:80]!r} is not one of the accepted values")
    if len(set(map(str, value))) != len(value):
        yield Problem(name, "names a value twice")


def _date_problems(statement: Mapping[str, object]) -> Iterator[Problem]:
    read: dict[str, date] = {}
    for name in (*DATES, *END_DATES):
        value = statement.get(name)
        if value is None:
            continue
        day = _day(value)
        first = DATES.get(name, 2020)
        if day is None:
            yield Problem(name, "must be a date written YYYY-MM-DD")
        elif not first <= day.year <= LAST_YEAR:
            yield Problem(name, f"must lie between {first}-01-01 and {LAST_YEAR}-12-31")
        else:
            read[name] = day
    applied = read.get("application_date")
    content = read.get("content_date")
    if applied is not None and content is not None and applied < content:
        yield Problem("application_date", "must not be before content_date")
    for name in END_DATES:
        end = read.get(name)
        if end is not None and applied is not None and end < applied:
            yield Problem(name, "must not be before application_date")


def _day(value: object) -> date | None:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
