"""The register's figures for the transparency report, against a fixture counted by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tanggap.auth.schemas import Caller
from tanggap.legal import accounts, service
from tanggap.legal.figures import CountryFigures, register_figures
from tanggap.legal.models import RequestKind
from tanggap.legal.schemas import AssessmentIn, LegalRequestIn, OfficerIn, Outcome
from tanggap.policy.schemas import LegalPolicy
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, reported_case, run_triage
from tests.legal_helpers import PSEUDONYM

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
COURT_ORDER = AssessmentIn(court_order=True, names_suspect=True, finding="Court order.")


def decided_reports(client: TestClient, runtime: Runtime, tokens: Tokens) -> list[str]:
    """Three reports: one removed, one found no violation, one still waiting; their ids."""
    cases = [reported_case(client, tokens, message_id=n) for n in (1, 2, 3)]
    run_triage(runtime)
    for case_id, outcome in zip(cases, ("remove", "no_violation"), strict=False):
        claimed = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
        assert claimed.status_code == 200, claimed.text
        decided = client.post(
            f"/v1/cases/{case_id}/decision",
            json=decision_body(outcome),
            headers=bearer(tokens.reviewer),
        )
        assert decided.status_code == 201, decided.text
    listed = client.get("/v1/reports", headers=bearer(tokens.flagger)).json()["reports"]
    report_of = {r["case_id"]: r["report_id"] for r in listed}
    return [report_of[case_id] for case_id in cases]


def test_the_figures_count_per_country_and_in_total(
    client: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    removed, kept, waiting = decided_reports(client, runtime, tokens)
    suspects = runtime.policy.model_copy(
        update={"legal": LegalPolicy(data_requests="court_order_suspect")}
    )
    with runtime.factory() as session, session.begin():
        officers = [
            accounts.create_officer(session=session, data=OfficerIn(email=email)).principal
            for email in ("satu@platform.example", "dua@platform.example")
        ]
        first, second = (Caller(id=p.id, role="legal", name=p.name, org_id=None) for p in officers)

        def request(
            kind: RequestKind,
            country: str,
            received: datetime,
            reports: tuple[str, ...] = (),
            outcome: Outcome | None = None,
            hours: float = 0,
        ) -> None:
            data = LegalRequestIn(
                kind=kind,
                authority="Authority",
                country=country,
                legal_basis="Law",
                reference=f"ref-{uuid.uuid4()}",
                received_at=received,
                pseudonyms=[PSEUDONYM] if kind == RequestKind.USER_DATA else [],
                report_ids=[uuid.UUID(r) for r in reports],
            )
            made = service.register(session=session, caller=first, data=data, documents=[])
            if outcome is None:
                return
            service.assess(session=session, caller=first, request_id=made.id, data=COURT_ORDER)
            service.decide(
                session=session,
                caller=second,
                request_id=made.id,
                outcome=outcome,
                policy=suspects,
                key=lambda: runtime.checkpoint_key,
                now=received + timedelta(hours=hours),
            )

        day = SINCE.replace
        removal, data, keep = (
            RequestKind.CONTENT_REMOVAL,
            RequestKind.USER_DATA,
            RequestKind.PRESERVATION,
        )
        # Indonesia: three removal requests (actioned, declined, waiting), a data request
        # refused after 24 h and one still open, a preservation request answered in 2 h.
        request(removal, "ID", day(day=2), (removed,), "answer", 6)
        request(removal, "ID", day(day=3), (kept,), "answer", 12)
        request(removal, "ID", day(day=4), (waiting,))
        request(data, "ID", day(day=5), outcome="refuse", hours=24)
        request(data, "ID", day(day=6))
        request(keep, "ID", day(day=7), outcome="answer", hours=2)
        # Malaysia: a court order granted in 3 h, a data request refused in 5 h.
        request(data, "MY", day(day=10), outcome="grant", hours=3)
        request(data, "MY", day(day=11), outcome="refuse", hours=5)
        # Outside [since, until): the minute before, and the bound itself.
        request(data, "ID", SINCE - timedelta(minutes=1), outcome="refuse", hours=1)
        request(removal, "MY", UNTIL, (removed,), "answer", 1)

    with runtime.factory() as session:
        figures = register_figures(session, since=SINCE, until=UNTIL)
    assert figures.countries == (
        CountryFigures(
            country="ID",
            removal_received=3,
            removal_actioned=1,
            removal_objected=1,
            data_received=2,
            data_disclosed=0,
            data_refused=1,
            median_hours_to_answer=9.0,  # of 6, 12, 24, 2
        ),
        CountryFigures(
            country="MY",
            removal_received=0,
            removal_actioned=0,
            removal_objected=0,
            data_received=2,
            data_disclosed=1,
            data_refused=1,
            median_hours_to_answer=4.0,  # of 3, 5
        ),
    )
    assert figures.total == CountryFigures(
        country="all",
        removal_received=3,
        removal_actioned=1,
        removal_objected=1,
        data_received=4,
        data_disclosed=1,
        data_refused=2,
        median_hours_to_answer=5.5,  # of 2, 3, 5, 6, 12, 24
    )
    with runtime.factory() as session:
        empty = register_figures(
            session, since=UNTIL + timedelta(days=1), until=UNTIL + timedelta(days=2)
        )
    assert empty.countries == () and empty.total.median_hours_to_answer is None
