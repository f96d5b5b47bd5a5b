"""The public transparency report against a month of moderation computed by hand
(tests/transparency_world.py): every figure, as JSON, CSV and page, on both databases."""

from __future__ import annotations

import csv
import io
from contextlib import ExitStack
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tanggap.runtime import Runtime
from tanggap.transparency.builds import BUILDS_AT_ONCE
from tanggap.transparency.period import Period
from tanggap.transparency.schemas import CountryRequests
from tests.factories import Tokens, bearer
from tests.legal_helpers import FINDING, make_officer, register, step
from tests.transparency_world import SINCE, UNTIL, build_world, ruled  # noqa: F401

MONTH = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
CIVIC = "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"


def clock(name: str, source: str, hours: int, decided: int, within: int) -> dict[str, Any]:
    share = round(within / decided, 4) if decided else None
    return {
        "clock": name,
        "source": source,
        "deadline_seconds": hours * 3600,
        "decided": decided,
        "within_deadline": within,
        "within_deadline_share": share,
    }


EXPECTED: dict[str, Any] = {
    "since": "2026-03-01T00:00:00Z",
    "until": "2026-04-01T00:00:00Z",
    # R1 (ID, 30 min), R2 (MY, 2 h) given effect; R3 (ID, at the first instant) pending.
    "orders_to_act": {
        "received": 3,
        "given_effect": 2,
        "median_seconds_to_confirm": 0,
        "median_seconds_to_effect": 4500,
        "by_member_state": [
            {"country": "ID", "received": 2, "given_effect": 1, "median_seconds_to_effect": 1800},
            {"country": "MY", "received": 1, "given_effect": 1, "median_seconds_to_effect": 7200},
        ],
        "by_category": [
            {"category": "drugs", "dsa_category": PRODUCTS, "received": 1, "given_effect": 0},
            {"category": "terrorism", "dsa_category": SECURITY, "received": 2, "given_effect": 2},
        ],
    },
    # The legal register is wired, and held no request that month.
    "government_requests": {"available": True, "countries": []},
    # N1-N7; N8 came before the month, N9 at its end (excluded). Settled in 3 h (N1), 30 h
    # (N2), 1 h (N7), 10 h (N3) and at once (N6, on a post already removed by detection).
    "notices": {
        "received": 7,
        "settled_by_automated_decision": 1,
        "median_seconds_to_action": 10800,
        "by_source": [
            {
                "source": "flagger",
                "received": 4,
                "actioned": 2,
                "declined": 1,
                "objected": 1,
                "pending": 0,
                "median_seconds_to_action": 10800,
            },
            {
                "source": "user",
                "received": 3,
                "actioned": 2,
                "declined": 0,
                "objected": 0,
                "pending": 1,
                "median_seconds_to_action": 18000,
            },
        ],
        "by_category": [
            {
                "category": category,
                "dsa_category": f"STATEMENT_CATEGORY_{dsa}",
                "source": source,
                "received": 1,
                "actioned": actioned,
            }
            for category, dsa, source, actioned in (
                ("disinformation", CIVIC, "flagger", 0),
                ("fraud", "SCAMS_AND_FRAUD", "flagger", 1),
                ("fraud", "SCAMS_AND_FRAUD", "user", 1),
                ("hate_speech", "ILLEGAL_OR_HARMFUL_SPEECH", "flagger", 0),
                ("illegal_gambling", "UNSAFE_AND_PROHIBITED_PRODUCTS", "flagger", 1),
                ("other", "OTHER_VIOLATION_TC", "user", 0),
                ("terrorism", "RISK_FOR_PUBLIC_SECURITY", "user", 1),
            )
        ],
        "actions": [
            {"outcome": "ban_channel", "count": 1},
            {"outcome": "no_violation", "count": 1},
            {"outcome": "remove", "count": 3},
        ],
    },
    # A1 (a rule opened it, a reviewer removed), A2 (a rule removed on sight).
    "own_initiative": {
        "cases": 2,
        "decided_automatically": 1,
        "by_category": [
            {"category": "drugs", "dsa_category": PRODUCTS, "count": 1},
            {"category": "terrorism", "dsa_category": SECURITY, "count": 1},
        ],
        "by_restriction": [{"outcome": "remove", "count": 2}],
        "by_detection_method": [{"method": "rule", "count": 2}],
    },
    # AP1 reversed A2 in 2 h, AP2 upheld R1 in 3 h; N7 banned a channel.
    "complaints": {
        "received": 2,
        "upheld": 1,
        "reversed": 1,
        "pending": 0,
        "median_seconds_to_decide": 9000,
        "channel_bans": 1,
        "member_bans": 0,
    },
    # R1, R2, N1, N2, N3, N7, A1 by reviewers, A2 by a rule (N8's came before the month).
    "automation": {
        "decisions": 8,
        "fully_automated": 1,
        "fully_automated_share": 0.125,
        "automated_detections": 2,
        "automated_reversed_on_appeal": 1,
        "automated_reversal_rate": 1.0,
    },
    "terrorist_content": {
        "removal_orders_received": 2,
        "removal_orders_acted_within_deadline": 1,
        "deadline_seconds": 3600,
        "items_removed_or_disabled": 3,
        "complaints": 2,
        "complaints_upheld": 1,
        "complaints_reversed": 1,
        "items_restored_after_complaint": 1,
    },
    "clocks": [
        clock("removal_order", "flagger", 1, 2, 1),
        clock("urgent", "flagger", 4, 0, 0),
        clock("urgent", "user", 24, 1, 1),
        clock("urgent", "automated", 24, 2, 2),
        clock("standard", "flagger", 24, 3, 2),
        clock("standard", "user", 72, 1, 1),
        clock("standard", "automated", 72, 0, 0),
        clock("low", "flagger", 72, 0, 0),
        clock("low", "user", 72, 0, 0),
        clock("low", "automated", 72, 0, 0),
    ],
}


@pytest.fixture
def world(ruled: tuple[Runtime, TestClient], tokens: Tokens) -> TestClient:  # noqa: F811
    runtime, client = ruled
    build_world(runtime, client, tokens)
    return client


def test_every_figure_of_the_month_matches_the_hand_count(world: TestClient) -> None:
    answer = world.get("/v1/transparency", params=MONTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == EXPECTED


def test_the_month_before_holds_only_what_happened_in_it(world: TestClient) -> None:
    before = world.get(
        "/v1/transparency", params={"since": "2026-02-01", "until": "2026-03-01"}
    ).json()
    assert before["since"] == "2026-02-01T00:00:00Z"
    assert before["orders_to_act"]["received"] == 0
    assert before["notices"]["received"] == 1  # N8, settled in 2 h
    assert before["notices"]["median_seconds_to_action"] == 7200
    assert before["automation"]["decisions"] == 1
    assert before["complaints"]["received"] == 0
    assert before["own_initiative"]["cases"] == 0


def test_the_csv_has_one_row_per_figure_with_the_json_values(world: TestClient) -> None:
    answer = world.get("/v1/transparency.csv", params=MONTH)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "transparency-20260301-20260401.csv" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["section", "measure", "dimensions", "value"]
    found = {(s, m, d): v for s, m, d, v in rows[1:]}
    assert len(found) == len(rows) - 1  # no figure twice
    assert found[("1.2.1", "by_member_state.median_seconds_to_effect", "country=MY")] == "7200"
    assert found[("1.2.1", "received", "")] == "3"
    assert found[("1.2.2", "available", "")] == "true"
    assert found[("1.3", "by_category.actioned", "category=fraud;dsa_category="
                  "STATEMENT_CATEGORY_SCAMS_AND_FRAUD;source=user")] == "1"  # fmt: skip
    assert found[("1.5", "median_seconds_to_decide", "")] == "9000"
    assert found[("1.6", "automated_reversal_rate", "")] == "1.0"
    assert found[("tco", "items_restored_after_complaint", "")] == "1"
    assert found[("clocks", "within_deadline_share", "clock=standard;source=flagger")] == "0.6667"
    assert found[("clocks", "within_deadline_share", "clock=low;source=user")] == ""
    # Every number of the JSON is one row, and nothing else is: 114 in the month.
    assert len(rows) - 1 == sum(_numbers(EXPECTED[name]) for name in list(EXPECTED)[2:]) == 114


def _numbers(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(_numbers(v) for v in value)
    return 0 if isinstance(value, str) else 1


def test_the_page_shows_the_figures_and_its_charts(world: TestClient) -> None:
    page = world.get("/transparency", params={"since": "2026-03-01", "until": "2026-04-01"})
    assert page.status_code == 200, page.text
    text = page.text
    assert "1.2.1" in text and "<svg" in text and "<script" not in text
    assert "<td>MY</td><td>1</td><td>1</td><td>2 h</td>" in text
    assert "Not available" not in text and "None in this period." in text
    indonesian = world.get("/transparency", params={**MONTH, "lang": "id"})
    assert indonesian.status_code == 200
    assert (
        "Laporan transparansi" in indonesian.text and "None in this period." not in indonesian.text
    )
    assert "<td>Hoaks <small" in indonesian.text and "<td>Disinformation <small" in text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-04-01", "until": "2026-03-01"}, "since"),
        ({"since": "2026-03-01", "until": "2026-03-01"}, "since"),
        ({"since": "2025-01-01", "until": "2026-01-03"}, "until"),
        ({"since": "1999-12-01", "until": "2000-01-02"}, "since"),
        ({"since": "2026-03-01", "until": "2100-01-02"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-03-01T00:00:00+99:00"}, "since"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    for path in ("/v1/transparency", "/v1/transparency.csv"):
        answer = client.get(path, params=params)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["field"] == field, answer.text
    page = client.get("/transparency", params=params)
    assert page.status_code == 422 and f"{field}:" in page.text


def test_by_default_the_report_covers_the_year_to_the_end_of_today(client: TestClient) -> None:
    body = client.get("/v1/transparency").json()
    until = datetime.fromisoformat(body["until"])
    assert until - datetime.fromisoformat(body["since"]) == timedelta(days=365)
    assert until.time() == time() and timedelta(0) < until - datetime.now(UTC) <= timedelta(days=1)
    assert body["notices"]["received"] == 0 and body["notices"]["median_seconds_to_action"] is None
    assert body["orders_to_act"]["median_seconds_to_confirm"] is None
    assert [c["within_deadline_share"] for c in body["clocks"]] == [None] * 10
    since_only = client.get("/v1/transparency", params={"since": "2025-01-01"}).json()
    assert since_only["until"] == "2026-01-02T00:00:00Z"  # a year and a day on, at most


def test_the_government_requests_come_from_the_function_the_runtime_holds(
    runtime: Runtime, client: TestClient
) -> None:
    asked: list[Period] = []

    def register(*, session: Session, period: Period) -> list[CountryRequests] | None:
        asked.append(period)
        return [
            CountryRequests(
                country="ID",
                removal_requests_received=4,
                removal_requests_actioned=3,
                removal_requests_objected=1,
                data_requests_received=2,
                data_requests_disclosed=0,
                data_requests_refused=2,
                median_seconds_to_answer=5400,
            )
        ]

    runtime.government_requests = register
    body = client.get("/v1/transparency", params=MONTH).json()
    assert asked == [Period(since=SINCE, until=UNTIL)]
    assert body["government_requests"]["available"] is True
    assert body["government_requests"]["countries"][0]["data_requests_refused"] == 2
    rows = list(csv.reader(io.StringIO(client.get("/v1/transparency.csv", params=MONTH).text)))
    assert ["1.2.2", "countries.median_seconds_to_answer", "country=ID", "5400"] in rows
    page = client.get("/transparency", params=MONTH).text
    assert "<td>ID</td><td>4</td><td>3</td><td>1</td><td>2</td><td>0</td><td>2</td>" in page


def test_the_legal_registers_requests_are_counted_per_country(
    runtime: Runtime, client: TestClient
) -> None:
    officer = make_officer(runtime, "hukum@platform.example")
    for country, at in (
        ("ID", "2026-03-02T09:00:00+07:00"),
        ("ID", "2026-03-03T09:00:00+07:00"),
        ("MY", "2026-03-04T09:00:00+08:00"),
        ("MY", "2026-04-02T09:00:00+08:00"),
    ):
        registered = register(client, officer, country=country, received_at=at)
        assert registered.status_code == 201, registered.text
    listed = client.get("/v1/legal/requests", params={"country": "ID"}, headers=bearer(officer))
    first = listed.json()[0]["request_id"]
    assert step(client, officer, first, "assessment", FINDING).status_code == 200
    assert step(client, officer, first, "decision", {"outcome": "refuse"}).status_code == 200

    body = client.get("/v1/transparency", params=MONTH).json()["government_requests"]
    assert body["available"] is True
    by_country = {row["country"]: row for row in body["countries"]}
    assert set(by_country) == {"ID", "MY"}  # the April request is outside the month
    assert by_country["ID"]["data_requests_received"] == 2
    assert by_country["ID"]["data_requests_refused"] == 1
    assert by_country["ID"]["data_requests_disclosed"] == 0
    assert by_country["MY"]["data_requests_received"] == 1
    assert by_country["MY"]["median_seconds_to_answer"] is None  # not answered yet


def test_a_reader_past_the_builds_at_once_is_refused_at_once_not_queued(
    runtime: Runtime, client: TestClient
) -> None:
    with ExitStack() as held:
        for _ in range(BUILDS_AT_ONCE):  # other readers' reports, being built
            held.enter_context(runtime.transparency_builds.slot())
        for path in ("/v1/transparency", "/v1/transparency.csv"):
            refused = client.get(path, params=MONTH)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "unavailable"
        page = client.get("/transparency", params=MONTH)
        assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert client.get("/v1/transparency", params=MONTH).status_code == 200  # slots given back
