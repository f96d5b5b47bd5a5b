"""What the Bot API cannot do, on the automatic paths: a bank that geo-restricts on sight leaves
a Telegram post's case to a reviewer (a bank that removes acts at once, delivered as ingest
delivers), and a removal reversed on appeal is recorded without pretending to restore."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.actions.models import Action
from tanggap.audit.models import AuditEvent
from tanggap.cases.models import Case
from tanggap.config import Settings
from tanggap.posts import service as posts
from tanggap.runtime import Runtime
from tanggap.telegram.intake import TelegramIntake
from tests.factories import FRAUD_TEXT, Tokens, bearer, decision_body, report_body, run_triage
from tests.integration.test_telegram_connector import jpeg
from tests.telegram_standin import BotApiStandin, channel_post, photo_sizes
from tests.telegram_support import owned_intake, telegram_settings

LINK = "https://t.me/beritapublik/7"


@pytest.fixture
def settings(settings: Settings, telegram_standin: BotApiStandin) -> Settings:
    """The test's settings with Telegram as the platform, its Bot API the stand-in."""
    return telegram_settings(settings, telegram_standin)


@pytest.fixture
def intake(
    runtime: Runtime, telegram_standin: BotApiStandin, tokens: Tokens
) -> Iterator[TelegramIntake]:
    """The connector's intake without the polling loop, its posts sent as the test platform."""
    with owned_intake(runtime, telegram_standin) as intake:
        yield intake


def bank(client: TestClient, tokens: Tokens, name: str, policy: str, photo: bytes) -> None:
    """Create a bank acting by ``policy`` that holds the MD5 of ``photo``."""
    countries = ["ID"] if policy == "auto_geo_restrict" else []
    body = {"name": name, "category": "fraud", "policy": policy, "countries": countries}
    made = client.post("/v1/banks", json=body, headers=bearer(tokens.admin))
    assert made.status_code == 201, made.text
    entry = {"kind": "md5", "value": hashlib.md5(photo).hexdigest()}
    added = client.post(
        f"/v1/banks/{name}/entries", json={"entries": [entry]}, headers=bearer(tokens.admin)
    )
    assert added.status_code == 200, added.text


def case_of(runtime: Runtime, message_id: int) -> Case:
    with runtime.factory() as session:
        post = posts.get(session=session, handle="beritapublik", message_id=message_id)
        assert post is not None
        return session.execute(select(Case).where(Case.post_id == post.id)).scalar_one()


def events(runtime: Runtime, action: str) -> list[tuple[str, dict[str, Any]]]:
    """The audit events named ``action``: their subject id and data."""
    with runtime.factory() as session:
        found = session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        return [(event.subject_id, json.loads(event.data)) for event in found]


def test_a_bank_that_geo_restricts_leaves_a_telegram_post_to_a_reviewer(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    telegram_standin: BotApiStandin,
    intake: TelegramIntake,
) -> None:
    standin = telegram_standin
    restricted, removed = jpeg(40), jpeg(90)
    bank(client, tokens, "geo-id", "auto_geo_restrict", restricted)
    bank(client, tokens, "remove-all", "auto_remove", removed)
    for message_id, photo in ((7, restricted), (8, removed)):
        standin.add_file(f"photo-{message_id}", photo)
        sizes = photo_sizes(f"photo-{message_id}", file_size=len(photo))
        update = channel_post(message_id=message_id, text="Lihat foto", photo=sizes)
        assert intake.handle({"update_id": message_id, **update}) == "stored"

    held = case_of(runtime, 7)
    assert (held.state, held.automated) == ("open", True)  # in the reviewers' queue
    ((subject, withheld),) = events(runtime, "case.automatic_decision_withheld")
    assert subject == str(held.id)
    assert withheld["outcome"] == "geo_restrict" and withheld["policy_ref"] == "bank/geo-id"
    assert "cannot restrict a message to some countries" in withheld["reason"]

    # The removal on sight went out as soon as the post was stored.
    assert case_of(runtime, 8).state == "decided"
    with runtime.factory() as session:
        kinds = [(a.kind, a.state) for a in session.execute(select(Action)).scalars()]
    assert kinds == [("remove_post", "delivered")]
    assert [c.params for c in standin.calls("deleteMessage")] == [
        {"chat_id": -1001234567890, "message_id": 8}
    ]


def test_a_removal_reversed_on_appeal_is_recorded_and_never_pretended_restored(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    telegram_standin: BotApiStandin,
    intake: TelegramIntake,
) -> None:
    update = channel_post(message_id=7, text=FRAUD_TEXT)
    assert intake.handle({"update_id": 1, **update}) == "stored"
    receipt = client.post("/v1/reports", json=report_body(LINK), headers=bearer(tokens.flagger))
    case_id = receipt.json()["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    decided = client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
    )
    assert decided.status_code == 201, decided.text
    appeal = {"channel": "beritapublik", "message_id": 7, "reason": "It was a real giveaway."}
    filed = client.post("/v1/appeals", json=appeal, headers=bearer(tokens.platform))
    assert filed.status_code == 201, filed.text
    run_triage(runtime)
    taken = client.post("/v1/cases/next", headers=bearer(tokens.reviewer2))
    assert taken.status_code == 200 and taken.json()["case_id"] == case_id

    reversed_ = client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body(
            "reverse", ground=None, policy_ref=None, explanation="The prize draw is real."
        ),
        headers=bearer(tokens.reviewer2),
    )
    assert reversed_.status_code == 201, reversed_.text
    assert reversed_.json()["actions"] == []  # no restore queued to fail
    ((subject, impossible),) = events(runtime, "appeal.restore_impossible")
    assert subject == filed.json()["appeal_id"]
    assert "cannot restore a deleted message" in impossible["reason"]
    statement = client.get(
        "/v1/posts/beritapublik/7/statement", headers=bearer(tokens.platform)
    ).json()
    assert statement["restriction"] == "restriction_lifted"
    assert "stays deleted" in statement["restoration"]
    # Telegram heard of the removal once, and of nothing since.
    asked = {"getChatMemberCount", "getChatMember"}  # what the intake asks of every chat
    called = [c.method for c in telegram_standin.calls() if c.method not in asked]
    assert called == ["deleteMessage"]
