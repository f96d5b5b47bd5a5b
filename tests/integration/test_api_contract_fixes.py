"""What the API contract check found: bodies that are not JSON, message ids past the database."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tanggap.runtime import Runtime
from tanggap.validation import MAX_MESSAGE_ID
from tests.factories import Tokens, bearer, post_body, row_counts


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_sent_as_another_type_is_refused_with_415(
    client: TestClient, tokens: Tokens, runtime: Runtime, content_type: str | None
) -> None:
    before = row_counts(runtime)
    headers = bearer(tokens.platform)
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = client.post("/v1/posts", content=json.dumps(post_body()).encode(), headers=headers)
    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert error["field"] == "Content-Type"
    assert "application/json" in error["message"]
    assert row_counts(runtime) == before


def test_a_json_body_with_a_charset_is_still_json(client: TestClient, tokens: Tokens) -> None:
    answer = client.post(
        "/v1/posts",
        content=json.dumps(post_body()).encode(),
        headers=bearer(tokens.platform, **{"Content-Type": "application/json; charset=utf-8"}),
    )
    assert answer.status_code == 201, answer.text


def test_a_missing_body_without_a_type_is_still_422(client: TestClient, tokens: Tokens) -> None:
    answer = client.post("/v1/posts", headers=bearer(tokens.platform))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "body"


@pytest.mark.parametrize("route", ["statement", "signals"])
@pytest.mark.parametrize("message_id", [MAX_MESSAGE_ID + 1, 2**63])
def test_a_message_id_past_the_largest_is_refused_with_422(
    client: TestClient, tokens: Tokens, route: str, message_id: int
) -> None:
    answer = client.get(f"/v1/posts/beritakita/{message_id}/{route}", headers=bearer(tokens.admin))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "message_id"


@pytest.mark.parametrize("route", ["statement", "signals"])
def test_the_largest_message_id_is_looked_up(
    client: TestClient, tokens: Tokens, route: str
) -> None:
    answer = client.get(
        f"/v1/posts/beritakita/{MAX_MESSAGE_ID}/{route}", headers=bearer(tokens.admin)
    )
    assert answer.status_code == 404, answer.text


def test_the_openapi_document_states_the_message_id_limit(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for route in ("statement", "signals"):
        operation = document["paths"][f"/v1/posts/{{channel}}/{{message_id}}/{route}"]["get"]
        (message_id,) = [p for p in operation["parameters"] if p["name"] == "message_id"]
        assert message_id["schema"]["maximum"] == MAX_MESSAGE_ID


def test_a_body_that_is_not_utf8_is_refused_with_422_naming_the_body(
    client: TestClient, tokens: Tokens
) -> None:
    answer = client.post(
        "/v1/posts",
        content=b'{"channel": "\xff\xfe"}',
        headers=bearer(tokens.platform, **{"Content-Type": "application/json"}),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "body"


def test_an_organisation_with_the_longest_name_gets_an_api_token(
    client: TestClient, tokens: Tokens
) -> None:
    org = client.post(
        "/v1/flaggers", json={"name": "D" * 200, "country": "ID"}, headers=bearer(tokens.admin)
    ).json()
    issued = client.post(f"/v1/flaggers/{org['org_id']}/tokens", headers=bearer(tokens.admin))
    assert issued.status_code == 201, issued.text


def test_a_member_with_a_long_email_and_no_name_is_added(
    client: TestClient, tokens: Tokens
) -> None:
    org = client.post(
        "/v1/flaggers",
        json={"name": "Long Mail Desk", "country": "ID"},
        headers=bearer(tokens.admin),
    ).json()
    email = f"{'a' * 240}@desk.example"
    added = client.post(
        f"/v1/flaggers/{org['org_id']}/members", json={"email": email}, headers=bearer(tokens.admin)
    )
    assert added.status_code == 201, added.text
    assert added.json()["email"] == email


def test_revoking_a_token_the_organisation_does_not_have_is_404(
    client: TestClient, tokens: Tokens
) -> None:
    org = client.post(
        "/v1/flaggers", json={"name": "Revoke Desk", "country": "ID"}, headers=bearer(tokens.admin)
    ).json()
    answer = client.delete(
        f"/v1/flaggers/{org['org_id']}/tokens/00000000-0000-4000-8000-000000000000",
        headers=bearer(tokens.admin),
    )
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["field"] == "token_id"


def test_a_count_refuses_true_and_false_but_takes_a_whole_float(
    client: TestClient, tokens: Tokens
) -> None:
    refused = client.post(
        "/v1/channels",
        json={"handle": "kanal_angka", "subscribers": False},
        headers=bearer(tokens.platform),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "subscribers"
    taken = client.post(
        "/v1/channels",
        json={"handle": "kanal_angka", "subscribers": 12.0},
        headers=bearer(tokens.platform),
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["subscribers"] == 12
