"""The whole way through Telegram, with python-telegram-bot's long polling against the stand-in
Bot API: a channel post comes in and is screened; a flagger links their account from the portal
and reports the post through the bot; a reviewer removes it; Telegram gets exactly one
``deleteMessage``; the flagger's chat hears the outcome, and a reply to it reaches the thread."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tanggap.config import Settings
from tanggap.notify.models import BotNotice
from tanggap.reports.models import Report, ReportMessage
from tanggap.runtime import Runtime
from tanggap.telegram.conversation import FlaggerBot
from tests.bot_helpers import portal_code
from tests.factories import FRAUD_TEXT, Tokens, bearer, decision_body
from tests.portal_helpers import signed_in
from tests.telegram_standin import BotApiStandin, channel_post, private_message
from tests.telegram_support import connector, taken, telegram_settings

SITI = 710_000_001
CHANNEL_ID = -1001234567890


@pytest.fixture
def settings(settings: Settings, telegram_standin: BotApiStandin) -> Settings:
    """The test's settings with Telegram as the platform, its Bot API the stand-in."""
    return telegram_settings(settings, telegram_standin)


def written_to(standin: BotApiStandin, chat_id: int, count: int) -> list[str]:
    """Wait until the bot wrote ``count`` messages to ``chat_id``; return their texts."""
    deadline = time.monotonic() + 15
    while True:
        texts = [
            str(c.params["text"])
            for c in standin.calls("sendMessage")
            if c.params.get("chat_id") == chat_id
        ]
        if len(texts) >= count or time.monotonic() > deadline:
            return texts
        standin.wait_for("sendMessage", len(standin.calls("sendMessage")) + 1, timeout=15)


def reply_to(message_id: int, text: str, *, update_message_id: int) -> dict[str, Any]:
    """Siti's private message answering the bot's message ``message_id``."""
    update = private_message(user_id=SITI, text=text, message_id=update_message_id)
    update["message"]["reply_to_message"] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": SITI, "type": "private"},
        "text": "…",
    }
    return update


def test_a_post_reported_through_the_bot_is_removed_once_and_the_flagger_hears_it(
    client: TestClient, tokens: Tokens, runtime: Runtime, telegram_standin: BotApiStandin
) -> None:
    standin = telegram_standin
    standin.member_counts[CHANNEL_ID] = 5_000
    assert runtime.bot is not None  # the token is set: notices go out through the Bot API
    browser = TestClient(client.app, raise_server_exceptions=False)
    csrf = signed_in(browser, runtime, "Cyber Desk A", "siti@desk-a.example")
    code = portal_code(browser, csrf)

    with connector(runtime, standin, FlaggerBot.for_runtime(runtime)):
        standin.queue(channel_post(message_id=7, text=FRAUD_TEXT))
        standin.queue(private_message(user_id=SITI, text=f"/start {code}", message_id=1))
        assert "Cyber Desk A" in written_to(standin, SITI, 1)[0]
        standin.queue(
            private_message(user_id=SITI, text="https://t.me/beritapublik/7 fraud", message_id=2)
        )
        fates = written_to(standin, SITI, 2)[1]
        assert fates.startswith("Penipuan: 1 diterima, 0 tidak."), fates

        with runtime.factory() as session:
            report = session.execute(select(Report)).scalar_one()
            report_id, case_id = report.id, report.case_id
        assert report.source == "flagger" and report.category == "fraud"
        claimed = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
        assert claimed.status_code == 200, claimed.text
        decided = client.post(
            f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
        )
        assert decided.status_code == 201, decided.text
        runtime.deliver_actions()
        assert [c.params for c in standin.calls("deleteMessage")] == [
            {"chat_id": CHANNEL_ID, "message_id": 7}
        ]

        assert runtime.send_bot_notices() == 1
        assert runtime.send_bot_notices() == 0  # never twice
        outcome = written_to(standin, SITI, 3)[2]
        assert f"Laporan {report_id}" in outcome and "Status: ditindak." in outcome
        with runtime.factory() as session:
            notice = session.execute(select(BotNotice)).scalar_one()
        assert notice.sent_message_id is not None

        standin.queue(reply_to(notice.sent_message_id, "Terima kasih!", update_message_id=3))
        assert f"Ditulis di utas laporan {report_id}" in written_to(standin, SITI, 4)[3]
        taken(standin)

    runtime.deliver_actions()  # nothing is left to send again
    assert len(standin.calls("deleteMessage")) == 1
    with runtime.factory() as session:
        thread = session.execute(
            select(ReportMessage.author_role, ReportMessage.body).where(
                ReportMessage.report_id == report_id
            )
        ).all()
    assert ("flagger", "Terima kasih!") in thread
