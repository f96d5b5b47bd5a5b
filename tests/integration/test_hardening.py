"""Defects a hostile probe found: each test fails without its fix."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, row_counts


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ébène Desk", "ébène desk"),
        ("Ébène Desk", "Ébène Desk"),
        ("Σύνδεσμος Ελέγχου", "σύνδεσμοσ  ελέγχου"),
        ("Straße Hotline", "STRASSE hotline"),
        ("Ｃｙｂｅｒ Ｄｅｓｋ", "cyber desk"),
    ],
)
def test_an_organisation_differing_only_in_case_in_any_script_is_the_same_one(
    client: TestClient, tokens: Tokens, runtime: Runtime, first: str, second: str
) -> None:
    body = {"name": first, "country": "ID"}
    created = client.post("/v1/flaggers", json=body, headers=bearer(tokens.admin))
    assert created.status_code == 201, created.text
    before = row_counts(runtime)
    for name in (second, second):
        again = client.post(
            "/v1/flaggers", json={**body, "name": name}, headers=bearer(tokens.admin)
        )
        assert again.status_code == 409, again.text
        assert again.json()["error"]["field"] == "name"
    assert row_counts(runtime) == before
    listed = client.get("/v1/flaggers", headers=bearer(tokens.admin)).json()
    assert [org["name"] for org in listed].count(first) == 1
