"""Takedowns to a platform's signed HTTP endpoint: a real server on 127.0.0.1 checks every
signature; its answers decide what the outbox does (applied, retried, refused for good)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.policy.service import find_category
from tanggap.runtime import Runtime, build_runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body, run_triage
from tests.platform_server import Answer, Platform, serve
from tests.portal_helpers import console_signed_in

SECRET = "platform-secret-0123456789abcdef"
PUBLIC_URL = "https://tanggap.example.org"


@pytest.fixture
def platform() -> Iterator[Platform]:
    with serve(SECRET) as running:
        yield running


@pytest.fixture
def settings(settings: Settings, platform: Platform) -> Settings:
    """The test's settings, with the platform's endpoint as the default for every channel."""
    return Settings(
        **{
            **settings.model_dump(),
            "platform": "http",
            "platform_url": platform.url,
            "platform_secret": SECRET,
            "platform_timeout_seconds": 1.0,
            "public_url": PUBLIC_URL + "/",
        }
    )


def take_down(
    client: TestClient, tokens: Tokens, message_id: int = 1, channel: str = "beritakita", **decision
) -> dict[str, Any]:
    """Post, report, claim and decide (a removal unless told); return the report and decision."""
    posted = client.post(
        "/v1/posts",
        json=post_body(channel=channel, message_id=message_id),
        headers=bearer(tokens.platform),
    )
    assert posted.status_code == 201, posted.text
    receipt = client.post(
        "/v1/reports",
        json=report_body(target=f"https://t.me/{channel}/{message_id}"),
        headers=bearer(tokens.flagger),
    ).json()
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    decided = client.post(
        f"/v1/cases/{receipt['case_id']}/decision",
        json=decision_body(**decision),
        headers=bearer(tokens.reviewer),
    )
    assert decided.status_code == 201, decided.text
    return {**receipt, "decision": decided.json()}


def actions(client: TestClient, tokens: Tokens, state: str | None = None) -> list[dict[str, Any]]:
    """The outbox as an admin sees it (``GET /v1/actions``)."""
    params = {"state": state} if state else {}
    answer = client.get("/v1/actions", params=params, headers=bearer(tokens.admin))
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def deliver(runtime: Runtime, later: timedelta = timedelta(0)) -> int:
    return runtime.deliver_actions(now=utcnow() + later)


def report_status(client: TestClient, tokens: Tokens, report_id: str) -> str:
    return str(
        client.get(f"/v1/reports/{report_id}", headers=bearer(tokens.flagger)).json()["status"]
    )


def test_a_takedown_arrives_signed_with_every_field(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    taken = take_down(client, tokens)
    [action] = taken["decision"]["actions"]
    assert action["state"] == "delivered" and action["attempts"] == 1
    [request] = platform.requests
    # The signature, checked here by hand as the documentation tells a platform to.
    stamp, mac = (
        part.split("=", 1)[1] for part in request.headers["x-tanggap-signature"].split(",")
    )
    signed = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.signed and hmac.compare_digest(signed.hexdigest(), mac)
    assert request.headers["x-tanggap-event-id"] == action["action_id"]
    assert request.headers["content-type"] == "application/json"
    fraud = find_category(runtime.policy, "fraud")
    assert fraud is not None
    assert request.payload == {
        "idempotency_key": action["action_id"],
        "kind": "remove",
        "target": "post",
        "channel": "beritakita",
        "channel_ref": None,
        "message_id": 1,
        "countries": [],
        "ground": "terms",
        "policy": {"ref": "terms/fraud", "name": fraud.display_name("en")},
        "statement_url": f"{PUBLIC_URL}/v1/posts/beritakita/1/statement",
    }
    assert SECRET not in request.body.decode()
    # The link works: the platform reads the statement of reasons with its own token.
    path = request.payload["statement_url"].removeprefix(PUBLIC_URL)
    statement = client.get(path, headers=bearer(tokens.platform))
    assert statement.status_code == 200 and statement.json()["message_id"] == 1
    assert report_status(client, tokens, taken["report_id"]) == "actioned"


def test_geo_restriction_and_channel_ban_say_where_and_which_statement(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    take_down(client, tokens, 1, outcome="geo_restrict", countries=["ID", "MY"])
    ban = take_down(client, tokens, 2, outcome="ban_channel")
    assert ban["decision"]["state"] == "pending_approval"  # four eyes: nothing sent yet
    assert len(platform.requests) == 1
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE channels SET platform_ref = 'C-77' WHERE handle = 'beritakita'"))
    approved = client.post(
        f"/v1/cases/{ban['case_id']}/approval",
        json={"approve": True},
        headers=bearer(tokens.reviewer2),
    )
    assert [a["state"] for a in approved.json()["actions"]] == ["delivered"]
    geo, banned = (r.payload for r in platform.requests)
    assert (geo["kind"], geo["target"], geo["message_id"]) == ("geo_restrict", "post", 1)
    assert geo["countries"] == ["ID", "MY"] and geo["channel_ref"] is None
    assert (banned["kind"], banned["target"], banned["message_id"]) == (
        "ban_channel",
        "channel",
        None,
    )
    assert banned["channel_ref"] == "C-77" and banned["countries"] == []
    # A channel-wide action links to the statement of the post its decision was about.
    assert banned["statement_url"] == f"{PUBLIC_URL}/v1/posts/beritakita/2/statement"


def test_a_platform_slower_than_the_timeout_is_retried_and_applies_once(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    platform.script = [Answer(hold=True)]  # applies, then answers after the timeout
    taken = take_down(client, tokens)
    [action] = taken["decision"]["actions"]
    assert action["state"] == "pending" and action["attempts"] == 1
    [row] = actions(client, tokens, "pending")
    assert "platform not reached: ReadTimeout" in row["last_error"]
    assert report_status(client, tokens, taken["report_id"]) == "in_review"
    assert deliver(runtime) == 0  # the back-off holds it
    assert deliver(runtime, timedelta(minutes=5)) == 1  # the retry is answered 409: applied
    [row] = actions(client, tokens, "delivered")
    assert row["attempts"] == 2 and row["last_error"] is None
    assert len(platform.requests) == 2 and len(platform.applied) == 1
    assert {r.payload["idempotency_key"] for r in platform.requests} == {action["action_id"]}
    assert report_status(client, tokens, taken["report_id"]) == "actioned"


def test_a_platform_down_for_a_while_gets_the_action_once_when_back(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    platform.script = [Answer(503, "maintenance")] * 4
    taken = take_down(client, tokens)
    later = timedelta(0)
    for _ in range(3):
        later += timedelta(hours=1)
        assert deliver(runtime, later) == 0
    [row] = actions(client, tokens, "pending")
    assert row["attempts"] == 4 and "HTTP 503: maintenance" in row["last_error"]
    assert report_status(client, tokens, taken["report_id"]) == "in_review"
    assert deliver(runtime, later + timedelta(hours=1)) == 1
    [row] = actions(client, tokens, "delivered")
    assert row["attempts"] == 5
    assert len(platform.requests) == 5 and len(platform.applied) == 1
    assert report_status(client, tokens, taken["report_id"]) == "actioned"


def test_already_applied_counts_as_applied(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    platform.script = [Answer(409, '{"error": "already removed"}')]
    with structlog.testing.capture_logs() as logs:
        taken = take_down(client, tokens)
    assert [a["state"] for a in taken["decision"]["actions"]] == ["delivered"]
    assert platform.applied == [] and len(platform.requests) == 1
    [said] = [entry for entry in logs if entry["event"] == "platform.already_applied"]
    assert said["action_id"] == taken["decision"]["actions"][0]["action_id"]
    assert report_status(client, tokens, taken["report_id"]) == "actioned"


def test_a_refusal_fails_at_once_and_the_admin_sees_the_answer_and_requeues(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    answer = '{"error": "unknown channel", "detail": "' + "x" * 2000 + '"}'
    platform.script = [Answer(422, answer)]
    with structlog.testing.capture_logs() as logs:
        taken = take_down(client, tokens)
    [action] = taken["decision"]["actions"]
    assert action["state"] == "failed" and action["attempts"] == 1
    [row] = actions(client, tokens, "failed")
    assert row["action_id"] == action["action_id"]
    error = row["last_error"]
    assert "refused the action (HTTP 422)" in error and '{"error": "unknown channel"' in error
    assert len(error) < 600  # the platform's answer, trimmed
    assert SECRET not in str(logs) and SECRET not in error
    assert deliver(runtime, timedelta(days=1)) == 0 and len(platform.requests) == 1
    assert report_status(client, tokens, taken["report_id"]) == "in_review"
    # The case page says it too, with the answer and how to requeue.
    console_signed_in(client, runtime, "admin@platform.example", ("en",), role="admin")
    page = client.get(f"/console/cases/{taken['case_id']}").text
    takedowns = page[page.index('id="takedowns"') : page.index('id="history"')]
    assert "remove_post</code> failed, attempts: 1" in takedowns
    assert "refused the action (HTTP 422): {&#34;error&#34;: &#34;unknown channel&#34;" in takedowns
    assert f"POST /v1/actions/{action['action_id']}/retry" in takedowns
    assert "action.failed" in page[page.index('id="history"') :]

    requeued = client.post(f"/v1/actions/{action['action_id']}/retry", headers=bearer(tokens.admin))
    assert requeued.status_code == 200 and requeued.json()["state"] == "pending"
    assert deliver(runtime) == 1
    assert [a["state"] for a in actions(client, tokens)] == ["delivered"]
    assert len(platform.applied) == 1
    assert report_status(client, tokens, taken["report_id"]) == "actioned"


@pytest.mark.parametrize("wait", ["3600", "date"])
def test_a_rate_limit_waits_as_long_as_the_platform_asks(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform, wait: str
) -> None:
    retry_after = wait
    if wait == "date":  # the same hour as an HTTP date
        moment = utcnow() + timedelta(seconds=3600)
        retry_after = moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    platform.script = [Answer(429, "slow down", {"Retry-After": retry_after})]
    take_down(client, tokens)
    [row] = actions(client, tokens, "pending")
    assert row["attempts"] == 1 and "HTTP 429" in row["last_error"]
    # The outbox's own back-off would try again within seconds; the platform asked for an hour.
    assert deliver(runtime, timedelta(minutes=50)) == 0 and len(platform.requests) == 1
    assert deliver(runtime, timedelta(minutes=61)) == 1
    assert len(platform.requests) == 2 and len(platform.applied) == 1


def test_each_channel_goes_to_its_own_platform(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    for channel in ("beritakita", "demokanal", "tgkanal"):
        client.post(
            "/v1/posts",
            json=post_body(channel=channel, message_id=9),
            headers=bearer(tokens.platform),
        )
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE channels SET platform = 'builtin' WHERE handle = 'demokanal'"))
        conn.execute(text("UPDATE channels SET platform = 'telegram' WHERE handle = 'tgkanal'"))
    take_down(client, tokens, 1, "beritakita")
    demo = take_down(client, tokens, 1, "demokanal")
    telegram = take_down(client, tokens, 1, "tgkanal")

    assert [r.payload["channel"] for r in platform.requests] == ["beritakita"]
    assert [a["state"] for a in demo["decision"]["actions"]] == ["delivered"]
    assert client.get("/c/demokanal/1").status_code == 410  # the built-in pages applied it
    assert client.get("/c/beritakita/1").status_code == 200  # the platform's, not ours
    [refused] = telegram["decision"]["actions"]
    assert refused["state"] == "failed"
    [row] = actions(client, tokens, "failed")
    assert "platform 'telegram', which has no adapter configured" in row["last_error"]


def test_a_reversed_appeal_restores_the_post_on_the_platform(
    client: TestClient, tokens: Tokens, runtime: Runtime, platform: Platform
) -> None:
    take_down(client, tokens)
    filed = client.post(
        "/v1/appeals",
        json={"channel": "beritakita", "message_id": 1, "reason": "It was a real giveaway."},
        headers=bearer(tokens.platform),
    )
    assert filed.status_code == 201, filed.text
    run_triage(runtime)
    case_id = filed.json()["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer2))
    reversed_ = client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body(
            "reverse", ground=None, policy_ref=None, explanation="The prize draw is real."
        ),
        headers=bearer(tokens.reviewer2),
    )
    assert reversed_.status_code == 201, reversed_.text
    [restore] = reversed_.json()["actions"]
    assert restore["state"] == "delivered"
    removal, restoring = (r.payload for r in platform.requests)
    assert (restoring["kind"], restoring["target"]) == ("restore", "post")
    assert restoring["idempotency_key"] == restore["action_id"] != removal["idempotency_key"]
    assert restoring["message_id"] == 1 and restoring["policy"]["ref"] == "terms/fraud"
    assert restoring["statement_url"] == removal["statement_url"]


def test_closing_the_runtime_releases_the_platforms_and_the_bots_connections(
    settings: Settings,
) -> None:
    with_bot = Settings(**{**settings.model_dump(), "telegram_token": "123:abc"})
    runtime = build_runtime(with_bot)
    adapters = runtime.adapter.adapters  # type: ignore[attr-defined]
    clients = [adapters["http"].client, adapters["telegram"].api._client, runtime.bot._client]  # type: ignore[union-attr]
    assert not any(client.is_closed for client in clients)
    runtime.close()
    assert all(client.is_closed for client in clients)
