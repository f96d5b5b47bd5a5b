"""Request bodies (every ``Input`` model of ``tanggap.*.schemas``): any JSON is a model or a
validation error naming its fields in our words; each length, count and range holds exactly at
its limit; what a model accepts it accepts again unchanged."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

import tanggap
from tanggap.validation import Input, MessageId, validation_details

for module in pkgutil.iter_modules(tanggap.__path__):
    if module.ispkg and importlib.util.find_spec(f"tanggap.{module.name}.schemas") is not None:
        importlib.import_module(f"tanggap.{module.name}.schemas")
importlib.import_module("tanggap.stream.messages")  # the stream's messages are request bodies too


def _subclasses(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = []
    for sub in model.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


MODELS = {model.__name__: model for model in _subclasses(Input)}
HEX = {"pdq": "a" * 64, "md5": "b" * 32, "sha256": "c" * 64}
POST = {
    "channel": "beritakita",
    "message_id": 42,
    "text": "Bocoran pola gacor",
    "posted_at": "2026-11-23T08:00:00+07:00",
    "author_id": "u-1",
}
# One valid body per model: the fuzz below changes some of its fields.
VALID: dict[str, dict[str, Any]] = {
    "DecisionIn": {"outcome": "remove", "ground": "law", "policy_ref": "UU ITE 27(2)",
                   "explanation": "judi online"},
    "EscalationIn": {"reason": "needs a lead"},
    "ApprovalIn": {"approve": True, "note": "ok"},
    "CascadeIn": {"link_ids": ["00000000-0000-4000-8000-000000000001"]},
    "MediaIn": {"sha256": HEX["sha256"], "url": "https://cdn.example/1.jpg", "data": "aGVsbG8="},
    "PostIn": {**POST, "media": [{"md5": HEX["md5"]}], "views": 10},
    "PostsIn": {"posts": [POST]},
    "HashedMediaIn": {"sha256": HEX["sha256"], "pdq": HEX["pdq"], "pdq_quality": 80},
    "ObjectRef": {"bucket": "tanggap-media", "name": "posts/42/1.jpg"},
    "StreamMediaIn": {"md5": HEX["md5"], "object": {"bucket": "tanggap-media", "name": "1.jpg"}},
    "StreamPostIn": {**POST, "media": [{"object": {"bucket": "b", "name": "n"}}], "views": 10},
    "ChannelIn": {"handle": "beritakita", "title": "Berita", "country": "id", "subscribers": 5},
    "FlaggerOrgIn": {"name": "Mafindo", "country": "ID", "contact_email": "a@mafindo.example",
                     "webhook_url": "https://hooks.example/t", "language": "id"},
    "MemberIn": {"email": "a@mafindo.example", "name": "Ani"},
    "BankIn": {"name": "judi-1", "category": "illegal_gambling", "policy": "auto_geo_restrict",
               "countries": ["ID", "my"]},
    "EntryIn": {"kind": "pdq", "value": HEX["pdq"].upper(), "label": "GIFCT"},
    "EntriesIn": {"entries": [{"kind": "md5", "value": HEX["md5"]}], "texts": ["slot gacor"]},
    "AppealIn": {"channel": "@BeritaKita", "message_id": "42", "reason": "not gambling"},
    "TargetRef": {"channel": "beritakita", "message_id": 42},
    "ReportIn": {"target": "https://t.me/beritakita/42", "category": "illegal_gambling",
                 "order_type": "removal_order", "legal_basis": "UU ITE",
                 "issuing_authority": "Komdigi", "deadline": "2026-11-24T00:00:00Z",
                 "reporter_id": 7},
    "BulkIn": {"reports": [{"target": "t.me/beritakita/42", "category": "spam"}]},
    "MessageIn": {"body": "Mohon ditinjau"},
    "ObjectionIn": {"report_id": "00000000-0000-4000-8000-000000000001",
                    "reason": "satire, not a threat"},
    "ReviewerIn": {"email": "r@platform.example", "languages": ["ID", "en"],
                   "clearances": ["csam"]},
    "LegalRequestIn": {"kind": "user_data", "authority": "Bareskrim Polri", "country": "id",
                       "legal_basis": "UU ITE Pasal 43", "reference": "B/1234/XII/2026",
                       "received_at": "2026-12-01T09:00:00+07:00",
                       "links": ["t.me/BeritaKita/42"], "channels": ["@BeritaKita"],
                       "pseudonyms": ["AB" * 32],
                       "report_ids": ["00000000-0000-4000-8000-000000000001"]},
    "AssessmentIn": {"court_order": True, "names_suspect": False, "finding": "not a court order"},
    "LegalDecisionIn": {"outcome": "refuse"},
    "OfficerIn": {"email": "hukum@platform.example", "name": "Hukum"},
    "ErasureIn": {"platform_user_id": "777001"},
}  # fmt: skip
ODD_TEXT = ["", " ", "\x00", "١٢٣", "²", "1_0", "http://[x/", "9" * 200]
PYTHON_TEXT = ("invalid literal", "Exceeds the limit", "Invalid IPv6", "Traceback", "int()")
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**53 - 2, max_value=2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [*ODD_TEXT, "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-11-23T08:00:00"]
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


def test_every_request_model_has_a_valid_body_here() -> None:
    assert set(MODELS) == set(VALID), "add a valid body for each new Input model"
    for name, body in VALID.items():
        MODELS[name].model_validate(body)


def _judged(model: type[BaseModel], body: Any) -> BaseModel | None:
    """Validate ``body`` as JSON; a refusal names the model's fields, in our words."""
    try:
        instance = model.model_validate_json(json.dumps(body))
    except ValidationError as exc:
        sent = {str(key) for key in body} if isinstance(body, dict) else set()
        for detail in validation_details(list(exc.errors())):
            if detail["message"] == "unknown field" and detail["field"] in sent:
                continue  # an unknown key of the body, named as it was sent
            root = detail["field"].split(".")[0]
            assert root in {*model.model_fields, "body"}, (model.__name__, detail)
            assert not any(text in detail["message"] for text in PYTHON_TEXT), detail
        return None
    # What was accepted is accepted again, as it was written back.
    assert model.model_validate_json(instance.model_dump_json()) == instance
    return instance


@settings(max_examples=1000)  # fifty changed bodies per model
@given(st.sampled_from(sorted(MODELS)), st.data())
def test_any_change_to_a_valid_body_is_a_model_or_errors_naming_fields(
    name: str, data: st.DataObject
) -> None:
    model, body = MODELS[name], dict(VALID[name])
    fields = sorted(body) + sorted(set(model.model_fields) - set(body)) + ["unknown_field"]
    for field in data.draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)):
        body[field] = data.draw(json_values)
    _judged(model, body)


@given(st.sampled_from(sorted(MODELS)), json_values)
def test_any_json_is_a_model_or_errors_naming_fields(name: str, body: Any) -> None:
    _judged(MODELS[name], body)


def _limits() -> list[tuple[str, str, str, int]]:
    """Every (model, field, kind of limit, limit) written on a top-level field."""
    found = []
    for name, model in sorted(MODELS.items()):
        for field, info in model.model_fields.items():
            for item in info.metadata:
                for kind in ("max_length", "min_length", "ge", "le", "gt", "lt"):
                    value = getattr(item, kind, None)
                    if isinstance(value, int) and not isinstance(value, bool):
                        found.append((name, field, kind, value))
    return found


LIMITS = _limits()


def _field_errors(model: type[BaseModel], body: dict[str, Any], field: str) -> list[str]:
    try:
        model.model_validate_json(json.dumps(body))
    except ValidationError as exc:
        return [e["type"] for e in exc.errors() if e["loc"] and e["loc"][0] == field]
    return []


def _is_list(model: type[BaseModel], field: str) -> bool:
    return "list" in str(model.model_fields[field].annotation)


# Letters of three widths in UTF-8 and UTF-16: a limit counts characters, not bytes.
LETTERS = ["a", "界", "😀"]


# A 12-million-character limit is checked once, with a one-byte letter.
LIMIT_CASES = [
    (*limit, letter) for limit in LIMITS for letter in (LETTERS if limit[3] <= 100_000 else ["a"])
]


@pytest.mark.parametrize(("name", "field", "kind", "limit", "letter"), LIMIT_CASES, ids=str)
def test_each_limit_holds_exactly_at_its_value(
    name: str, field: str, kind: str, limit: int, letter: str
) -> None:
    model, body = MODELS[name], dict(VALID[name])
    if kind in ("ge", "le", "gt", "lt"):
        inside = {"ge": limit, "le": limit, "gt": limit + 1, "lt": limit - 1}[kind]
        outside = {"ge": limit - 1, "le": limit + 1, "gt": limit, "lt": limit}[kind]
        body[field] = inside
        assert not _field_errors(model, body, field), (name, field, inside)
        body[field] = outside
        assert _field_errors(model, body, field), (name, field, outside)
        return
    if _is_list(model, field):
        item = (VALID[name].get(field) or ["x"])[0]

        def make(n: int) -> Any:
            return [item] * n

    else:

        def make(n: int) -> Any:
            return letter * n

    too = "too_long" if kind == "max_length" else "too_short"
    at, past = (limit, limit + 1) if kind == "max_length" else (limit, limit - 1)
    body[field] = make(at)
    assert not any(t.endswith(too) for t in _field_errors(model, body, field)), (name, field)
    if past >= 0:
        body[field] = make(past)
        assert any(t.endswith(too) for t in _field_errors(model, body, field)), (name, field)


@given(st.text(max_size=20) | st.integers() | st.booleans() | st.floats())
@example("١٢٣")
@example("²")
@example("1_000")
@example(True)
@example(" 42 ")
@example(str(2**53))
@example(str(2**53 + 1))
@example("0" * 30 + "7")
def test_a_message_id_is_ascii_digits_from_one_to_2_53(value: object) -> None:
    try:
        number = TypeAdapter(MessageId).validate_python(value)
    except ValidationError as exc:
        assert not any(text in str(exc) for text in PYTHON_TEXT)
        assert not (isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()
                    and 1 <= int(value) <= 2**53)  # fmt: skip
        return
    assert 1 <= number <= 2**53 and not isinstance(value, bool)
    if isinstance(value, str):
        assert value.strip().isascii() and value.strip().isdigit() and int(value) == number


@pytest.mark.parametrize("field", ["reporter_id", "author_id"])
def test_a_person_id_of_thousands_of_digits_is_refused_by_length(field: str) -> None:
    # Without the fix: "Exceeds the limit (4300 digits) for integer string conversion".
    name, body = (
        ("ReportIn", dict(VALID["ReportIn"])) if field == "reporter_id" else ("PostIn", dict(POST))
    )
    body[field] = 10**5000
    with pytest.raises(ValidationError) as caught:
        MODELS[name].model_validate(body)
    [error] = caught.value.errors()
    assert error["loc"] == (field,) and "1-128 characters" in error["msg"]


@pytest.mark.parametrize(
    "url", ["http://[hooks.example/t", "https://hooks.example:99999/t", "http://h:x/"]
)
def test_a_webhook_url_that_urlsplit_refuses_is_refused_by_name(url: str) -> None:
    # Without the fix: "Invalid IPv6 URL" in Python's words, or a port no request can reach.
    with pytest.raises(ValidationError) as caught:
        MODELS["FlaggerOrgIn"].model_validate({**VALID["FlaggerOrgIn"], "webhook_url": url})
    [error] = caught.value.errors()
    assert error["loc"] == ("webhook_url",) and "http:// or https:// URL" in error["msg"]
