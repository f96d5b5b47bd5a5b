"""Triage, routing by language and clearance, "next case", leases and the deadline watch."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from tanggap.audit.models import AuditEvent
from tanggap.cases.models import Case
from tanggap.errors import RoundCutShort
from tanggap.flaggers.models import FlaggerOrg
from tanggap.notify.models import Notification
from tanggap.review.deadlines import watch_deadlines
from tanggap.review.triage import claim_due, triage_cases, triage_due
from tanggap.reviewers import service as reviewers
from tanggap.runtime import Runtime
from tests.factories import (
    REMOVAL_ORDER,
    Tokens,
    bearer,
    make_reviewer,
    post_body,
    report_body,
    run_triage,
)

RUSSIAN = "Привет всем, здесь раздают бесплатные призы, пишите мне в личку"
INDONESIAN = "Selamat! Anda memenangkan hadiah undian, kirim kode OTP anda sekarang juga"


def ingest(client: TestClient, tokens: Tokens, message_id: int, text: str = INDONESIAN) -> None:
    answer = client.post(
        "/v1/posts",
        json=post_body(message_id=message_id, text=text),
        headers=bearer(tokens.platform),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["language"] in ("id", "ru")


def report(client: TestClient, token: str, message_id: int, **fields: Any) -> dict[str, Any]:
    answer = client.post(
        "/v1/reports",
        json=report_body(target=f"https://t.me/beritakita/{message_id}", **fields),
        headers=bearer(token),
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def take_next(client: TestClient, token: str) -> Any:
    return client.post("/v1/cases/next", headers=bearer(token))


def events(runtime: Runtime, action: str) -> list[AuditEvent]:
    with runtime.factory() as session:
        return list(
            session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def test_triage_queues_the_case_and_tells_the_reporter(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    ingest(client, tokens, 1)
    receipt = report(client, tokens.flagger, 1)
    seen = client.get(f"/v1/reports/{receipt['report_id']}", headers=bearer(tokens.flagger))
    assert seen.json()["status"] == "received"
    assert run_triage(runtime) == 1
    assert run_triage(runtime) == 0  # nothing left to do
    seen = client.get(f"/v1/reports/{receipt['report_id']}", headers=bearer(tokens.flagger))
    assert seen.json()["status"] == "triaged"
    case = client.get(f"/v1/cases/{receipt['case_id']}", headers=bearer(tokens.reviewer)).json()
    assert case["queue"] == "id:fraud"
    explained = case["priority_explained"]
    assert explained["band"] == "within_deadline" and explained["triaged_at"]
    factors = {f["factor"]: f for f in explained["factors"]}
    assert factors["source"]["value"] == "flagger" and factors["severity"]["value"] == "6"
    assert case["priority"] == sum(f["minutes"] for f in explained["factors"])
    assert len(events(runtime, "case.triaged")) == 1


def test_next_case_goes_only_to_someone_who_reads_the_language(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    english_only = make_reviewer(runtime, "en@example.org", ("en",))
    indonesian = make_reviewer(runtime, "id@example.org", ("id",))
    ingest(client, tokens, 1)
    receipt = report(client, tokens.flagger, 1)
    assert take_next(client, indonesian).status_code == 204  # not triaged yet
    run_triage(runtime)
    assert take_next(client, english_only).status_code == 204
    assert (
        client.get(f"/v1/cases/{receipt['case_id']}", headers=bearer(english_only)).status_code
        == 404
    )
    assert (
        client.post(
            f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(english_only)
        ).status_code
        == 404
    )
    taken = take_next(client, indonesian)
    assert taken.status_code == 200 and taken.json()["case_id"] == receipt["case_id"]
    assert taken.json()["claimed_by"] and taken.json()["state"] == "in_review"
    assert take_next(client, indonesian).status_code == 204  # handed out once
    report_now = client.get(f"/v1/reports/{receipt['report_id']}", headers=bearer(tokens.flagger))
    assert report_now.json()["status"] == "in_review"


def test_restricted_categories_need_an_explicit_clearance(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    uncleared = make_reviewer(runtime, "a@example.org", ("id",))
    admin_uncleared = make_reviewer(runtime, "boss@example.org", ("id",), role="admin")
    cleared = make_reviewer(runtime, "b@example.org", ("id",), clearances=("child_sexual_abuse",))
    ingest(client, tokens, 1)
    receipt = report(client, tokens.flagger, 1, category="child_sexual_abuse")
    run_triage(runtime)
    for token in (uncleared, admin_uncleared):
        assert take_next(client, token).status_code == 204
        assert client.get("/v1/cases", headers=bearer(token)).json()["total"] == 0
        claimed = client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(token))
        assert claimed.status_code == 404
    assert take_next(client, cleared).json()["case_id"] == receipt["case_id"]


def test_a_language_nobody_reads_waits_in_the_fallback_queue_for_leads(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    reviewer = make_reviewer(runtime, "id@example.org", ("id",))
    lead = make_reviewer(runtime, "lead@example.org", ("en",), role="lead")
    ingest(client, tokens, 1, text=RUSSIAN)
    receipt = report(client, tokens.flagger, 1)
    # The suite's default staff read id, en and ms; nobody reads Russian.
    run_triage(runtime)
    case = client.get(f"/v1/cases/{receipt['case_id']}", headers=bearer(lead)).json()
    assert case["queue"] == "fallback:fraud" and case["language"] == "ru"
    assert take_next(client, reviewer).status_code == 204
    taken = take_next(client, lead)
    assert taken.json()["case_id"] == receipt["case_id"]
    assert (
        client.post(f"/v1/cases/{receipt['case_id']}/release", headers=bearer(lead)).status_code
        == 200
    )

    # Once someone who reads Russian joins, the case moves to their queue.
    russian = make_reviewer(runtime, "ru@example.org", ("ru",))
    assert run_triage(runtime) == 1
    moved = client.get(f"/v1/cases/{receipt['case_id']}", headers=bearer(russian)).json()
    assert moved["queue"] == "ru:fraud"
    assert take_next(client, russian).json()["case_id"] == receipt["case_id"]


def test_next_case_takes_the_most_urgent_first(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    for message_id in (1, 2, 3):
        ingest(client, tokens, message_id)
    user = report(client, tokens.platform, 1, category="terrorism")  # 24 h
    flagger = report(client, tokens.flagger, 2, category="fraud")  # 24 h, smaller head start
    order = report(client, tokens.flagger, 3, category="other", **REMOVAL_ORDER)  # 1 h
    run_triage(runtime)
    got = [take_next(client, tokens.reviewer).json()["case_id"] for _ in range(3)]
    assert got == [order["case_id"], user["case_id"], flagger["case_id"]]
    assert take_next(client, tokens.reviewer).status_code == 204


def test_a_paused_reviewer_is_handed_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    from tanggap.reviewers import service as reviewers

    reviewer = make_reviewer(runtime, "id@example.org", ("id",))
    ingest(client, tokens, 1)
    report(client, tokens.flagger, 1)
    run_triage(runtime)
    with runtime.factory() as session, session.begin():
        account = reviewers.find_by_email(session=session, email="id@example.org")
        assert account is not None
        reviewers.set_paused(session=session, principal_id=account.id, paused=True, actor="test")
    refused = take_next(client, reviewer)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "paused"


def test_expired_claims_return_escalations_and_breaches_are_recorded(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    ingest(client, tokens, 1)
    receipt = report(client, tokens.flagger, 1, **REMOVAL_ORDER)  # 1 h clock
    run_triage(runtime)
    taken = take_next(client, tokens.reviewer).json()
    deadline = datetime.fromisoformat(taken["deadline"])
    near = datetime.fromisoformat(taken["priority_explained"]["near_deadline_at"])
    assert near == deadline - timedelta(minutes=15)

    lease_end = datetime.fromisoformat(taken["lease_expires_at"])
    assert (
        watch_deadlines(
            factory=runtime.factory, notifier=runtime.notifier, now=lease_end - timedelta(seconds=1)
        ).total
        == 0
    )
    first = watch_deadlines(
        factory=runtime.factory, notifier=runtime.notifier, now=near + timedelta(seconds=1)
    )
    assert (first.leases_expired, first.escalated, first.breached) == (1, 1, 0)
    later = watch_deadlines(
        factory=runtime.factory, notifier=runtime.notifier, now=deadline + timedelta(seconds=1)
    )
    assert (later.leases_expired, later.escalated, later.breached) == (0, 0, 1)
    assert (
        watch_deadlines(
            factory=runtime.factory, notifier=runtime.notifier, now=deadline + timedelta(seconds=2)
        ).total
        == 0
    )
    with runtime.factory() as session:
        case = session.get(Case, uuid.UUID(receipt["case_id"]))
        assert case is not None
        assert case.state == "open" and case.claimed_by_id is None
        assert case.escalated_at is not None and case.breached_at is not None
    assert len(events(runtime, "case.escalated")) == 1
    assert len(events(runtime, "case.deadline_breached")) == 1
    shown = client.get(f"/v1/cases/{receipt['case_id']}", headers=bearer(tokens.reviewer2)).json()
    assert shown["escalated_at"] and shown["breached_at"]


class FailingAfterFirstCase:
    """The runtime's notifier, but queuing news of any report after the first it hears of fails
    (a lost connection): one report per case here, so every case after the first fails."""

    def __init__(self, notifier: Any) -> None:
        self.notifier = notifier
        self.first: uuid.UUID | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.notifier, name)

    def report_changed(self, *, session: Any, change: Any) -> None:
        self.reports_changed(session=session, changes=[change])

    def reports_changed(self, *, session: Any, changes: Any) -> None:
        self.first = self.first or changes[0].report_id
        if any(change.report_id != self.first for change in changes):
            raise ConnectionError("server closed the connection unexpectedly")
        self.notifier.reports_changed(session=session, changes=changes)


def test_a_round_cut_short_says_how_many_cases_it_committed(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    for message_id in (1, 2, 3):
        ingest(client, tokens, message_id)
        report(client, tokens.flagger, message_id)
    failing = FailingAfterFirstCase(runtime.notifier)
    with pytest.raises(RoundCutShort) as cut:
        triage_due(factory=runtime.factory, policy=runtime.policy, notifier=failing)
    assert cut.value.done == 1 and isinstance(cut.value.__cause__, ConnectionError)
    with runtime.factory() as session:
        waiting = session.execute(select(Case.id).where(Case.triage_due.is_(True))).all()
    assert len(waiting) == 2  # the first case stays triaged; the failed one was rolled back
    assert run_triage(runtime) == 2


def test_triage_takes_as_many_statements_for_forty_cases_as_for_four(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    with runtime.factory() as session, session.begin():  # the flaggers hear of every triage
        session.execute(update(FlaggerOrg).values(webhook_url="https://desk.example/hook"))
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The wake-ups go out from a thread of their own after the commit.
        if threading.current_thread().name != "wake-sender":
            statements.append(statement[:80])

    counts, first = [], 1
    for size in (4, 40):
        for message_id in range(first, first + size):
            ingest(client, tokens, message_id)
            report(client, tokens.flagger, message_id)
        first += size
        event.listen(runtime.engine, "before_cursor_execute", seen)
        try:
            assert run_triage(runtime) == size
        finally:
            event.remove(runtime.engine, "before_cursor_execute", seen)
        counts.append(len(statements))
        statements.clear()
    assert counts[0] == counts[1] < 25, counts
    # Every case and every report was triaged, audited and told of, once.
    with runtime.factory() as session:
        assert not session.scalars(select(Case).where(Case.triage_due.is_(True))).all()
        assert session.scalar(select(func.count()).select_from(Case)) == 44
        assert session.scalar(select(func.count()).where(Case.triaged_at.is_not(None))) == 44
        told = session.scalars(select(Notification.event)).all()
    assert told.count("report.triaged") == 44
    assert len(events(runtime, "case.triaged")) == 44
    changed = events(runtime, "report.status_changed")
    assert [json.loads(e.data)["to"] for e in changed] == ["triaged"] * 44


def test_a_chunk_scores_every_case_as_triaging_it_alone_does(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    # A mixed backlog: two channels, texts in two languages, with and without detection's
    # signals, views from none to many, categories with different clocks, a removal order,
    # users' reports beside a flagger's, several reports on some posts.
    texts = (INDONESIAN, RUSSIAN, "Halo semua, apa kabar hari ini di kota kita")
    categories = ("fraud", "terrorism", "other", "drugs")
    for n in range(1, 25):
        channel = "beritakita" if n % 3 else "kabarlain"
        body = post_body(
            channel=channel, message_id=n, text=texts[n % 3], views=(n % 4) * 10 ** (n % 6)
        )
        assert client.post("/v1/posts", json=body, headers=bearer(tokens.platform)).is_success
        target = f"https://t.me/{channel}/{n}"
        category = categories[n % 4]
        order = REMOVAL_ORDER if n % 7 == 0 else {}
        first = client.post(
            "/v1/reports",
            json=report_body(target, category=category, **order),
            headers=bearer(tokens.flagger),
        )
        assert first.status_code == 202, first.text
        for user in range(n % 3):
            answer = client.post(
                "/v1/reports",
                json=report_body(target, category=category, reporter_id=f"u{n}-{user}"),
                headers=bearer(tokens.platform),
            )
            assert answer.status_code == 202, answer.text

    def scores(cases: Iterable[Case]) -> dict[uuid.UUID, tuple[Any, ...]]:
        return {
            case.id: (case.queue, case.priority, case.priority_factors, case.near_at, case.rank_at)
            for case in cases
        }

    with runtime.factory() as session:  # all in one chunk, then rolled back
        languages = reviewers.languages_read(session=session)
        claimed = claim_due(session=session, limit=100)
        triage_cases(
            session=session,
            claimed=claimed,
            policy=runtime.policy,
            languages_read=languages,
            notifier=runtime.notifier,
        )
        session.flush()
        session.expire_all()  # read back as stored
        together = scores(claimed)
        session.rollback()
    assert len(together) == 24
    assert len({json.dumps(factors) for _, _, factors, _, _ in together.values()}) > 5  # varied
    # One case a transaction, committed.
    assert triage_due(
        factory=runtime.factory, policy=runtime.policy, notifier=runtime.notifier, chunk=1
    ) == len(together)
    with runtime.factory() as session:
        alone = scores(session.scalars(select(Case)))
    assert together == alone
