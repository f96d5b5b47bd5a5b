"""The leads' staffing page: the planner run on the current load and roster, for leads only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from tanggap.cases.models import Case
from tanggap.runtime import Runtime
from tanggap.simulation.staffing import SHIFTS
from tests.factories import run_triage, seed_cases
from tests.portal_helpers import console_signed_in


def _rows(html: str) -> list[list[str]]:
    table = html.split('id="staffing-table"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_a_lead_sees_the_smallest_roster_for_the_current_load(
    client: TestClient, runtime: Runtime
) -> None:
    seed_cases(runtime, 60)
    run_triage(runtime)
    # Every case opened yesterday at 10:30 UTC, inside the week looked back and one shift.
    opened = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=30)
    with runtime.factory() as session, session.begin():
        session.execute(update(Case).values(opened_at=opened))
    csrf = console_signed_in(client, runtime, "lead@example.org", ("id", "en"), role="lead")
    client.post("/console/language", data={"language": "en", "csrf_token": csrf})
    shown = client.get("/console/staffing")
    assert shown.status_code == 200, shown.text
    html = shown.text
    assert "8.6 cases a day" in html  # 60 cases over the 7 days looked back
    assert "This roster meets every clock." in html
    rows = _rows(html)
    # One skill set (the lead: Indonesian and English) on each of the default shifts.
    assert len(rows) == len(SHIFTS)
    assert all(row[1] == "lead" and row[2] == "en,id" for row in rows)
    assert [row[5] for row in rows] == ["1"] * len(SHIFTS)  # one account, spread: one a shift
    # Every case arrived within one hour, a few a day: one head on one shift serves them all
    # within their clocks (which shift is the planner's choice), and only that shift is busy.
    needed = [int(row[6]) for row in rows]
    assert sorted(needed) == [0] * (len(SHIFTS) - 1) + [1]
    assert [row[7] != "0%" for row in rows] == [n == 1 for n in needed]
    # The chart is drawn here: inline SVG, two bars a group, nothing fetched from elsewhere.
    chart = html.split('<svg id="staffing-chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect") == 2 * len(SHIFTS)
    assert 'src="http' not in html and "cdn" not in html.lower()


def test_reviewers_do_not_get_the_staffing_page(client: TestClient, runtime: Runtime) -> None:
    csrf = console_signed_in(client, runtime, "reviewer@example.org", ("id",))
    client.post("/console/language", data={"language": "en", "csrf_token": csrf})
    refused = client.get("/console/staffing")
    assert refused.status_code == 404
    assert "This page is for leads." in refused.text
    assert 'href="/console/staffing"' not in client.get("/console/queues").text
