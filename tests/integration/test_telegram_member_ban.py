"""Banning a Telegram group member who keeps posting removed content: the connector keeps the
member's id sealed beside the post; a reviewer decides ``ban_member`` seeing how many of the
author's posts were removed before; a second reviewer approves; Telegram gets one
``deleteMessage`` and one ``banChatMember`` for that member; a reversal on appeal lifts the ban
with one ``unbanChatMember``. The outcome is refused wherever there is no member to ban."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.actions.models import Action
from tanggap.audit.models import AuditEvent
from tanggap.channels.models import TelegramMember
from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.platforms.telegram import member_seal
from tanggap.pseudonyms import user_ref
from tanggap.runtime import Runtime
from tanggap.telegram.intake import TelegramIntake
from tests.conftest import TEST_SECRET
from tests.factories import (
    FRAUD_TEXT,
    Tokens,
    bearer,
    decision_body,
    report_body,
    row_counts,
    run_triage,
)
from tests.portal_helpers import console_signed_in, form_value
from tests.privacy import leaks
from tests.privacy_dump import dump
from tests.telegram_standin import BotApiStandin, Refusal, channel_post, group_message
from tests.telegram_support import owned_intake, telegram_settings

MEMBER = 5_550_004_321  # the member who keeps posting removed content
GROUP_ID = -1009876543210
AGAIN_TEXT = "Hadiah undian lagi! Kirim kode OTP dan nomor rekening anda ke admin sekarang"


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


def store(intake: TelegramIntake, update_id: int, update: dict[str, Any]) -> None:
    assert intake.handle({"update_id": update_id, **update}) == "stored"


def claimed_case(client: TestClient, tokens: Tokens, link: str) -> str:
    """Report the post, claim its case as the first reviewer; return the case id."""
    receipt = client.post("/v1/reports", json=report_body(link), headers=bearer(tokens.flagger))
    assert receipt.status_code == 202, receipt.text
    case_id = str(receipt.json()["case_id"])
    claimed = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    assert claimed.status_code == 200, claimed.text
    return case_id


def decide(client: TestClient, tokens: Tokens, case_id: str, outcome: str) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body(outcome),
        headers=bearer(tokens.reviewer),
    )


def events(runtime: Runtime, action: str) -> list[dict[str, Any]]:
    with runtime.factory() as session:
        found = session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        return [json.loads(event.data) for event in found]


def banned(client: TestClient, tokens: Tokens, intake: TelegramIntake) -> str:
    """The member's post 4 decided ``ban_member`` and approved; return its case id."""
    store(intake, 1, group_message(user_id=MEMBER, message_id=4, text=AGAIN_TEXT))
    case_id = claimed_case(client, tokens, "https://t.me/obrolankota/4")
    decided = decide(client, tokens, case_id, "ban_member")
    assert decided.status_code == 201, decided.text
    approved = client.post(
        f"/v1/cases/{case_id}/approval", json={"approve": True}, headers=bearer(tokens.reviewer2)
    )
    assert approved.status_code == 200, approved.text
    return case_id


def test_a_member_who_keeps_posting_removed_content_is_banned_once_with_four_eyes(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    telegram_standin: BotApiStandin,
    intake: TelegramIntake,
    settings: Settings,
) -> None:
    standin = telegram_standin
    author_ref = user_ref(secret_key=TEST_SECRET, platform_user_id=str(MEMBER))
    store(intake, 1, group_message(user_id=MEMBER, message_id=3, text=FRAUD_TEXT))
    store(intake, 2, group_message(user_id=MEMBER, message_id=4, text=AGAIN_TEXT))

    # The member is kept once, their id sealed for this group: it opens under the bot's key only,
    # and the raw id is nowhere in the database.
    with runtime.factory() as session:
        (member,) = session.execute(select(TelegramMember)).scalars()
    assert (member.chat_ref, member.author_ref) == (str(GROUP_ID), author_ref)
    seal = member_seal(settings)
    assert seal is not None
    assert seal.open(chat_ref=str(GROUP_ID), author_ref=author_ref, sealed=member.sealed_id) == (
        MEMBER
    )
    assert str(MEMBER) not in "\n".join(dump(runtime.engine).values())

    # The first post is removed; the reviewer of the second sees it.
    first = claimed_case(client, tokens, "https://t.me/obrolankota/3")
    assert decide(client, tokens, first, "remove").status_code == 201
    second = claimed_case(client, tokens, "https://t.me/obrolankota/4")
    shown = client.get(f"/v1/cases/{second}", headers=bearer(tokens.reviewer)).json()
    assert shown["post"]["author_ref"] == author_ref
    assert shown["post"]["author_removed_posts"] == 1

    decided = decide(client, tokens, second, "ban_member")
    assert decided.status_code == 201, decided.text
    assert (decided.json()["state"], decided.json()["actions"]) == ("pending_approval", [])
    assert standin.calls("banChatMember") == []
    own = client.post(
        f"/v1/cases/{second}/approval", json={"approve": True}, headers=bearer(tokens.reviewer)
    )
    assert own.status_code == 403  # four eyes: not the decision's author
    approved = client.post(
        f"/v1/cases/{second}/approval", json={"approve": True}, headers=bearer(tokens.reviewer2)
    )
    assert approved.status_code == 200, approved.text
    assert [a["kind"] for a in approved.json()["actions"]] == ["remove_post", "ban_member"]

    runtime.deliver_actions(now=utcnow() + timedelta(hours=1))  # nothing goes twice
    assert [c.params for c in standin.calls("deleteMessage")] == [
        {"chat_id": GROUP_ID, "message_id": 3},
        {"chat_id": GROUP_ID, "message_id": 4},
    ]
    assert [c.params for c in standin.calls("banChatMember")] == [
        {"chat_id": GROUP_ID, "user_id": MEMBER}
    ]
    with runtime.factory() as session:
        delivered = session.execute(select(Action.kind, Action.state, Action.attempts)).all()
    assert sorted(delivered) == [
        ("ban_member", "delivered", 1),
        ("remove_post", "delivered", 1),
        ("remove_post", "delivered", 1),
    ]

    statement = client.get(
        "/v1/posts/obrolankota/4/statement", headers=bearer(tokens.platform)
    ).json()
    assert statement["restriction"] == "removal_and_member_ban"
    assert statement["decision_visibility"] == "DECISION_VISIBILITY_CONTENT_REMOVED"
    assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert "banned from the group @obrolankota" in statement["account_restriction"]

    # The sealed id is in no answer and no audit event.
    with runtime.factory() as session:
        audited = [e.data for e in session.execute(select(AuditEvent)).scalars()]
    answers = [shown, decided.json(), approved.json(), statement, audited]
    assert leaks(answers, {member.sealed_id, str(MEMBER)}) == set()


def test_a_ban_reversed_on_appeal_is_lifted_once_and_the_post_stays_deleted(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    telegram_standin: BotApiStandin,
    intake: TelegramIntake,
) -> None:
    standin = telegram_standin
    case_id = banned(client, tokens, intake)
    appeal = {"channel": "obrolankota", "message_id": 4, "reason": "The draw was real."}
    filed = client.post("/v1/appeals", json=appeal, headers=bearer(tokens.platform))
    assert filed.status_code == 201, filed.text
    run_triage(runtime)
    taken = client.post("/v1/cases/next", headers=bearer(tokens.reviewer2))
    assert taken.status_code == 200 and taken.json()["case_id"] == case_id

    reversed_ = client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body("reverse", ground=None, policy_ref=None, explanation="It was real."),
        headers=bearer(tokens.reviewer2),
    )
    assert reversed_.status_code == 201, reversed_.text
    assert [a["kind"] for a in reversed_.json()["actions"]] == ["unban_member"]
    runtime.deliver_actions(now=utcnow() + timedelta(hours=1))
    assert [c.params for c in standin.calls("unbanChatMember")] == [
        {"chat_id": GROUP_ID, "user_id": MEMBER, "only_if_banned": True}
    ]
    (impossible,) = events(runtime, "appeal.restore_impossible")
    assert impossible["kind"] == "restore_post"
    assert "cannot restore a deleted message" in impossible["reason"]
    statement = client.get(
        "/v1/posts/obrolankota/4/statement", headers=bearer(tokens.platform)
    ).json()
    assert statement["restriction"] == "restriction_lifted"
    assert "stays deleted" in statement["restoration"]
    assert "ban from the group @obrolankota was lifted" in statement["account_restriction"]
    assert len(standin.calls("banChatMember")) == 1


def test_telegram_refusing_the_ban_fails_it_with_telegrams_words_and_a_wait_is_waited_out(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    telegram_standin: BotApiStandin,
    intake: TelegramIntake,
) -> None:
    standin = telegram_standin
    standin.refuse_next(
        "banChatMember",
        Refusal(429, "Too Many Requests: retry after 30", retry_after=30),
        Refusal(400, "Bad Request: user is an administrator of the chat"),
    )
    before = utcnow()
    banned(client, tokens, intake)
    with runtime.factory() as session:
        ban = session.execute(select(Action).where(Action.kind == "ban_member")).scalar_one()
    assert ban.state == "pending" and ban.next_attempt_at >= before + timedelta(seconds=30)
    waited = ban.next_attempt_at
    assert runtime.deliver_actions(now=waited - timedelta(seconds=1)) == 0  # not before the wait
    runtime.deliver_actions(now=waited + timedelta(seconds=1))
    with runtime.factory() as session:
        ban = session.execute(select(Action).where(Action.kind == "ban_member")).scalar_one()
    assert (ban.state, ban.attempts) == ("failed", 2)  # refused for good, for an admin to see
    assert ban.last_error == (
        "DeliveryRefused: Telegram banChatMember: 400 Bad Request: user is an administrator of "
        "the chat"
    )
    assert str(MEMBER) not in ban.last_error
    assert len(standin.calls("banChatMember")) == 2 and len(standin.calls("deleteMessage")) == 1


def test_ban_member_is_refused_where_there_is_no_member_to_ban(
    client: TestClient, tokens: Tokens, runtime: Runtime, intake: TelegramIntake
) -> None:
    store(intake, 1, channel_post(message_id=7, text=FRAUD_TEXT))
    anonymous = group_message(user_id=MEMBER, message_id=5, text=FRAUD_TEXT)
    anonymous["message"]["sender_chat"] = {"id": GROUP_ID, "type": "supergroup"}
    store(intake, 2, anonymous)  # an anonymous admin speaks as the group: no member
    with runtime.factory() as session:
        assert session.execute(select(TelegramMember)).first() is None
    for link in ("https://t.me/beritapublik/7", "https://t.me/obrolankota/5"):
        case_id = claimed_case(client, tokens, link)
        before = row_counts(runtime)
        refused = decide(client, tokens, case_id, "ban_member")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] == "outcome"
        assert "holds no Telegram id for this post's author" in error["message"]
        assert row_counts(runtime) == before  # nothing recorded, nothing queued


def test_the_console_offers_ban_member_only_for_a_group_member_it_can_ban(
    client: TestClient, tokens: Tokens, runtime: Runtime, intake: TelegramIntake
) -> None:
    store(intake, 1, channel_post(message_id=7, text=FRAUD_TEXT))
    store(intake, 2, group_message(user_id=MEMBER, message_id=3, text=FRAUD_TEXT))
    cases = {}
    for link in ("https://t.me/beritapublik/7", "https://t.me/obrolankota/3"):
        receipt = client.post("/v1/reports", json=report_body(link), headers=bearer(tokens.flagger))
        cases[link] = receipt.json()["case_id"]
    run_triage(runtime)
    csrf = console_signed_in(client, runtime, "peninjau@platform.example")
    offered = {}
    for link, case_id in cases.items():
        claimed = client.post(
            f"/console/cases/{case_id}/claim", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert claimed.status_code in (200, 303), claimed.text
        page = client.get(f"/console/cases/{case_id}").text
        assert form_value(page, "csrf_token")
        offered[link] = 'value="ban_member"' in page
        assert 'value="remove"' in page and 'id="author-removed"' in page
    assert offered == {"https://t.me/beritapublik/7": False, "https://t.me/obrolankota/3": True}
