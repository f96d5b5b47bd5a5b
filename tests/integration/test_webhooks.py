"""Webhooks to a real receiver: signed, in order per report, retried, never twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.notify.signing import sign, verify
from tanggap.review.deadlines import watch_deadlines
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tests.factories import REMOVAL_ORDER, Tokens, bearer, decision_body, post_body, report_body
from tests.privacy import WEBHOOK, paths
from tests.webhook_receiver import Receiver, serve


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    server, url = serve(hook)
    yield hook, url
    server.shutdown()


@pytest.fixture
def desk(client: TestClient, tokens: Tokens, receiver: tuple[Receiver, str]) -> dict[str, str]:
    """An organisation whose webhook points at the receiver, and a token of it."""
    hook, url = receiver
    org = client.post(
        "/v1/flaggers",
        json={"name": "Webhook Desk", "country": "ID", "webhook_url": url},
        headers=bearer(tokens.admin),
    ).json()
    hook.secret = org["webhook_secret"]
    token = client.post(f"/v1/flaggers/{org['org_id']}/tokens", headers=bearer(tokens.admin))
    return {"org_id": org["org_id"], "token": token.json()["token"]}


def take_down(client: TestClient, tokens: Tokens, desk: dict[str, str], message_id: int) -> str:
    """Report a post as the desk, write to the desk, remove the post; return the report id."""
    client.post("/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform))
    receipt = client.post(
        "/v1/reports",
        json=report_body(f"t.me/beritakita/{message_id}"),
        headers=bearer(desk["token"]),
    ).json()
    case_id = receipt["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/reports/{receipt['report_id']}/messages",
        json={"body": "Kami sedang meninjau."},
        headers=bearer(tokens.reviewer),
    )
    client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
    )
    return str(receipt["report_id"])


def flush(runtime: Runtime, http: httpx.Client, later: timedelta) -> int:
    return runtime.send_webhooks(http, now=utcnow() + later)


def test_a_receiver_down_for_an_hour_gets_everything_once_in_order(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    receiver: tuple[Receiver, str],
    desk: dict[str, str],
) -> None:
    hook, _ = receiver
    hook.down = True
    reports = [take_down(client, tokens, desk, n) for n in (1, 2)]
    with httpx.Client(timeout=10) as http:
        minutes = 0
        while minutes <= 60:  # an hour of retries against a receiver that refuses
            assert flush(runtime, http, timedelta(minutes=minutes)) == 0
            minutes += 5
        assert hook.refused >= 2 and hook.accepted == []
        hook.down = False
        delivered = flush(runtime, http, timedelta(minutes=75))
    events = [(r.payload["report"]["report_id"], r.payload["event"]) for r in hook.accepted]
    expected = [
        "report.received", "report.in_review", "report.message", "report.actioned",
    ]  # fmt: skip
    for report_id in reports:
        assert [e for rid, e in events if rid == report_id] == expected
    assert delivered == len(hook.accepted) == 8
    assert hook.duplicates == [] and hook.bad_signatures == 0
    for received in hook.accepted:
        assert received.payload["event_id"] == received.event_id
        assert paths(received.payload) <= WEBHOOK
        assert "author_ref" not in str(received.payload)
    message = next(r for r in hook.accepted if r.payload["event"] == "report.message")
    assert message.payload["message"]["author_role"] == "platform"
    assert set(message.payload["message"]) == {
        "message_id", "author_role", "kind", "body", "created_at",
    }  # fmt: skip
    log = client.get(
        "/v1/notifications", params={"org_id": desk["org_id"]}, headers=bearer(tokens.admin)
    ).json()
    assert {n["state"] for n in log} == {"delivered"}
    refused = [a for n in log for a in n["attempts"] if a["status"] == 503]
    assert len(refused) == hook.refused
    assert client.get("/v1/notifications", headers=bearer(tokens.flagger)).status_code == 403


def test_delivery_resumes_across_a_restart(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    receiver: tuple[Receiver, str],
    desk: dict[str, str],
    settings: Any,
) -> None:
    hook, _ = receiver
    hook.down = True
    take_down(client, tokens, desk, 1)
    with httpx.Client(timeout=10) as http:
        flush(runtime, http, timedelta(0))
    # A new process over the same database picks up where the old one stopped.
    from tanggap.runtime import build_runtime

    restarted = build_runtime(settings)
    hook.down = False
    try:
        with httpx.Client(timeout=10) as http:
            assert flush(restarted, http, timedelta(minutes=30)) == 4
            assert flush(restarted, http, timedelta(minutes=60)) == 0
    finally:
        restarted.close()
    assert len(hook.accepted) == 4 and hook.duplicates == []


def test_an_undeliverable_webhook_is_given_up_after_the_limit(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    receiver: tuple[Receiver, str],
    desk: dict[str, str],
) -> None:
    hook, _ = receiver
    hook.down = True
    runtime.settings.webhook_give_up_hours = 1
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    client.post("/v1/reports", json=report_body(), headers=bearer(desk["token"]))
    with httpx.Client(timeout=10) as http:
        flush(runtime, http, timedelta(minutes=90))
    failed = client.get("/v1/notifications?state=failed", headers=bearer(tokens.admin)).json()
    assert len(failed) == 1 and failed[0]["attempts"][-1]["status"] == 503


def test_organisations_without_a_webhook_and_their_own_messages_send_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    client.post(
        f"/v1/reports/{receipt['report_id']}/messages",
        json={"body": "halo"},
        headers=bearer(tokens.flagger),
    )
    assert client.get("/v1/notifications", headers=bearer(tokens.admin)).json() == []


def test_the_signature_recipe() -> None:
    body = b'{"event":"report.actioned"}'
    header = sign(secret="whsec_test", body=body, timestamp=1_800_000_000)
    assert header.startswith("t=1800000000,v1=")
    assert verify(secret="whsec_test", body=body, header=header, now=1_800_000_100)
    assert not verify(secret="whsec_other", body=body, header=header, now=1_800_000_100)
    assert not verify(secret="whsec_test", body=body + b" ", header=header, now=1_800_000_100)
    assert not verify(secret="whsec_test", body=body, header=header, now=1_800_001_000)
    assert not verify(secret="whsec_test", body=body, header="garbage", now=1_800_000_000)


def test_leads_are_alerted_through_their_own_signed_webhook(
    settings: Settings, tokens: Tokens, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.secret = "lead-alert-secret-0123456789"
    with_leads = build_runtime(
        settings.model_copy(update={"lead_webhook_url": url, "lead_webhook_secret": hook.secret})
    )
    try:
        client = TestClient(create_app(runtime=with_leads, run_dispatcher=False))
        client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
        receipt = client.post(
            "/v1/reports", json=report_body(**REMOVAL_ORDER), headers=bearer(tokens.flagger)
        ).json()
        case_id = receipt["case_id"]
        client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
        escalated = client.post(
            f"/v1/cases/{case_id}/escalate",
            json={"reason": "Authority unclear; a lead should confirm."},
            headers=bearer(tokens.reviewer),
        )
        assert escalated.status_code == 200, escalated.text
        near = datetime.fromisoformat(escalated.json()["priority_explained"]["near_deadline_at"])
        watched = watch_deadlines(
            factory=with_leads.factory,
            notifier=with_leads.notifier,
            now=near + timedelta(seconds=1),
        )
        assert watched.escalated == 1
        with httpx.Client(timeout=10) as http:
            assert with_leads.send_webhooks(http) == 2
        assert hook.bad_signatures == 0
        alerts = [r.payload for r in hook.accepted]
        assert [a["event"] for a in alerts] == ["case.escalated", "case.escalated"]
        assert [a["case"]["reason"] for a in alerts] == [
            "Authority unclear; a lead should confirm.",
            "near_deadline",
        ]
        assert alerts[0]["case"]["console_path"] == f"/console/cases/{case_id}"
        assert "author_ref" not in json.dumps(alerts) and "Halo" not in json.dumps(alerts)
        log = client.get("/v1/notifications", headers=bearer(tokens.admin)).json()
        assert {n["audience"] for n in log} == {"leads"}
    finally:
        with_leads.close()


def test_without_a_lead_webhook_no_alert_is_queued(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/cases/{receipt['case_id']}/escalate",
        json={"reason": "Need a lead."},
        headers=bearer(tokens.reviewer),
    )
    assert client.get("/v1/notifications", headers=bearer(tokens.admin)).json() == []


def test_a_reversed_appeal_tells_the_flagger_the_post_is_back(
    client: TestClient,
    tokens: Tokens,
    desk: dict[str, str],
    runtime: Runtime,
    receiver: tuple[Receiver, str],
) -> None:
    hook, _ = receiver
    report_id = take_down(client, tokens, desk, 1)
    appeal = client.post(
        "/v1/appeals",
        json={"channel": "beritakita", "message_id": 1, "reason": "Bukan penipuan."},
        headers=bearer(tokens.platform),
    ).json()
    client.post(f"/v1/cases/{appeal['case_id']}/claim", headers=bearer(tokens.reviewer2))
    reversed_ = client.post(
        f"/v1/cases/{appeal['case_id']}/decision",
        json={"outcome": "reverse", "explanation": "The giveaway is real."},
        headers=bearer(tokens.reviewer2),
    )
    assert reversed_.status_code == 201, reversed_.text
    with httpx.Client(timeout=10) as http:
        while flush(runtime, http, timedelta(0)):
            pass
    events = [
        r.payload["event"] for r in hook.accepted if r.payload["report"]["report_id"] == report_id
    ]
    assert events[-1] == "report.decision_reversed"
    assert events.count("report.decision_reversed") == 1
