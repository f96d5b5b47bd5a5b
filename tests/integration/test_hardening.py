"""Defects a hostile probe found: each test fails without its fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tanggap import logs
from tanggap.config import Settings
from tanggap.runtime import Runtime, build_runtime
from tanggap.validation import MAX_JSON_DEPTH
from tests.conftest import TEST_SECRET
from tests.factories import Tokens, bearer, post_body, report_body, row_counts


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


@pytest.fixture
def refusing_organisations(runtime: Runtime, tokens: Tokens) -> Iterator[None]:
    """Make the database refuse every new organisation, as a full disk would; undo it after."""
    with runtime.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON flagger_orgs "
                "BEGIN SELECT refused_by_the_test(NEW.name); END"  # no such function
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused_by_the_test' "
                "USING DETAIL = 'Key (name)=(' || NEW.name || ') refused'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON flagger_orgs "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    yield
    # PostgreSQL's test database outlives the test (its tables are only emptied).
    with runtime.engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER refuse ON flagger_orgs"
            if conn.dialect.name != "sqlite"
            else "DROP TRIGGER refuse"
        )
        if conn.dialect.name != "sqlite":
            conn.exec_driver_sql("DROP FUNCTION refuse()")


@pytest.mark.usefixtures("refusing_organisations", "restored_logs")
def test_a_database_error_logs_neither_the_rows_values_nor_the_body(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    capfd: pytest.CaptureFixture[str],
) -> None:
    logs.configure("INFO")  # as a Tanggap process logs, to the stderr captured here
    capfd.readouterr()
    body = {
        "name": "Desk Rahasia 7f3a",
        "country": "ID",
        "contact_email": "pejabat.rahasia@example.go.id",
    }
    answer = client.post("/v1/flaggers", json=body, headers=bearer(tokens.admin))
    assert answer.status_code == 500
    assert "refused_by_the_test" not in answer.text
    logged = capfd.readouterr().err
    assert "request.failed" in logged and "refused_by_the_test" in logged
    for value in ("Desk Rahasia 7f3a", "pejabat.rahasia", "whsec_", tokens.admin):
        assert value not in logged


def test_log_events_drop_secret_fields_and_sql_parameters() -> None:
    event = logs.redact(
        None,
        "error",
        {
            "event": "x",
            "body": '{"note": "hi"}',
            "Authorization": "Bearer t",
            "exception": "boom\n[SQL: INSERT]\n[parameters: ('a@b.c', 'whsec_1')]\n"
            "(Background on this error at: https://sqlalche.me/e/21/gkpj)",
        },
    )
    assert event["body"] == event["Authorization"] == logs.REDACTED
    assert "a@b.c" not in event["exception"] and "[SQL: INSERT]" in event["exception"]


def test_sqlite_commits_are_durable_by_default(tmp_path: Path) -> None:
    # The default settings, not the test suite's (which trade durability for speed).
    settings = Settings(
        env="test", database_url=f"sqlite:///{tmp_path}/t.db", secret_key=TEST_SECRET
    )
    assert settings.sqlite_synchronous == "FULL"
    runtime = build_runtime(settings)
    try:
        with runtime.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
    finally:
        runtime.close()


@pytest.mark.parametrize("depth", [33, 300, 900])
@pytest.mark.parametrize("key", [None, "deep-1"])
def test_a_bulk_line_nested_too_deep_is_refused_naming_the_line(
    client: TestClient, tokens: Tokens, runtime: Runtime, depth: int, key: str | None
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    before = row_counts(runtime)
    deep = "[" * depth + "1" + "]" * depth
    line = json.dumps(report_body("t.me/beritakita/1"))
    body = f'{{"reports": [{line}, {{"target": "t.me/beritakita/1", "note": {deep}}}]}}'
    headers = bearer(tokens.flagger, **({"Idempotency-Key": key} if key else {}))
    headers["Content-Type"] = "application/json"
    answer = client.post("/v1/reports/bulk", content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "reports.1"
    assert row_counts(runtime) == before


def test_a_bulk_line_nested_as_deep_as_allowed_gets_its_own_fate(
    client: TestClient, tokens: Tokens
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    lines = [report_body("t.me/beritakita/1"), {"target": "t.me/beritakita/1", "note": nested}]
    answer = client.post(
        "/v1/reports/bulk",
        json={"reports": lines},
        headers=bearer(tokens.flagger, **{"Idempotency-Key": "deep-ok"}),
    )
    assert answer.status_code == 200, answer.text
    assert [line["status"] for line in answer.json()["results"]] == ["accepted", "invalid"]
