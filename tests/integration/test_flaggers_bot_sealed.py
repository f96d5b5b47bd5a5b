"""A flagger's linked Telegram account keeps no raw id: the user is found by a keyed digest, the
private chat's id is sealed for its link and opened only to send; notices still reach the chat,
a sealed chat id moved to another link fails its notice for good, and links outlive a restart
and a new bot token."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, text, update
from structlog.testing import capture_logs

from tanggap.flaggers.models import TelegramLink
from tanggap.notify.chat import BotReply
from tanggap.notify.models import BotNotice
from tanggap.outbox import DeliveryState
from tanggap.reports.models import Report, ReportMessage
from tanggap.runtime import Runtime, build_runtime
from tanggap.telegram.conversation import FlaggerBot
from tanggap.telegram.port import PrivateMessage
from tests.bot_helpers import RecordingSender, portal_code, text_of
from tests.factories import Tokens, bearer, post_body
from tests.portal_helpers import signed_in
from tests.privacy_dump import dump

# Distinct numbers for the user and their chat, so that each is looked for on its own.
ANA, ANA_CHAT = 700_000_101, 800_000_101
BUDI, BUDI_CHAT = 700_000_202, 800_000_202
_message_ids = itertools.count(1)


@pytest.fixture
def bot(runtime: Runtime, client: TestClient, tokens: Tokens) -> FlaggerBot:
    for message_id in (1, 2):
        posted = client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
        assert posted.status_code == 201, posted.text
    return FlaggerBot.for_runtime(runtime)


def tell(
    bot: FlaggerBot, user: int, chat: int, text: str, reply_to: int | None = None
) -> list[BotReply]:
    """Send the bot a private message from ``user`` in ``chat``."""
    message = PrivateMessage(
        user_id=user,
        chat_id=chat,
        message_id=next(_message_ids),
        text=text,
        reply_to_message_id=reply_to,
        language_code="en",
    )
    return bot.handle(message)


def link(bot: FlaggerBot, client: TestClient, runtime: Runtime, org: str, email: str,
         user: int, chat: int) -> None:  # fmt: skip
    """Sign a member of ``org`` into the portal and link Telegram ``user`` from ``chat``."""
    browser = TestClient(client.app, raise_server_exceptions=False)
    csrf = signed_in(browser, runtime, org, email)
    replies = tell(bot, user, chat, f"/start {portal_code(browser, csrf)}")
    assert org in text_of(replies), replies


def queue_notice(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, tokens: Tokens, user: int, chat: int
) -> uuid.UUID:
    """Have ``user`` report a post and a reviewer write to them; return the report's id."""
    tell(bot, user, chat, "https://t.me/beritakita/1 fraud")
    with runtime.factory() as session:
        report_id, case_id = session.execute(select(Report.id, Report.case_id)).one()
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    written = client.post(
        f"/v1/reports/{report_id}/messages", json={"body": "Ada?"}, headers=bearer(tokens.reviewer)
    )
    assert written.status_code == 201, written.text
    return report_id


def notice_states(runtime: Runtime) -> list[tuple[str, int, str | None]]:
    with runtime.factory() as session:
        return [
            (state, attempts, error)
            for state, attempts, error in session.execute(
                select(BotNotice.state, BotNotice.attempts, BotNotice.last_error)
            )
        ]


def test_a_link_keeps_no_raw_id_and_the_bot_still_reaches_the_member(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    link(bot, client, runtime, "Hotline B", "budi@hotline-b.example", BUDI, BUDI_CHAT)
    with runtime.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM telegram_links")).one()
    everything = "\n".join(dump(runtime.engine).values())
    assert len(row) == 5  # id, principal, digest, sealed chat, linked at: nothing else
    for raw in (str(BUDI), str(BUDI_CHAT)):
        assert all(raw not in str(value) for value in row), raw
        assert raw not in everything, raw

    assert "/start CODE" not in text_of(tell(bot, BUDI, BUDI_CHAT, "/help"))  # known by digest
    report_id = queue_notice(bot, client, runtime, tokens, BUDI, BUDI_CHAT)
    runtime.bot = sender = RecordingSender()
    assert runtime.send_bot_notices() == 1
    message_id, notice = sender.sent[0]
    assert notice.chat_id == BUDI_CHAT and "Ada?" in notice.text  # the chat, opened to send
    answered = tell(bot, BUDI, BUDI_CHAT, "Tangkapan layar menyusul.", reply_to=message_id)
    assert f"Written on the thread of report {report_id}" in text_of(answered)
    with runtime.factory() as session:
        last = session.execute(
            select(ReportMessage.author_role, ReportMessage.body)
            .where(ReportMessage.report_id == report_id)
            .order_by(ReportMessage.created_at.desc())
        ).first()
    assert last == ("flagger", "Tangkapan layar menyusul.")


def test_a_sealed_chat_id_moved_to_another_link_fails_its_notice_for_good(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    link(bot, client, runtime, "Cyber Desk A", "ana@desk-a.example", ANA, ANA_CHAT)
    link(bot, client, runtime, "Hotline B", "budi@hotline-b.example", BUDI, BUDI_CHAT)
    queue_notice(bot, client, runtime, tokens, ANA, ANA_CHAT)
    with runtime.factory() as session, session.begin():
        links = dict(session.execute(select(TelegramLink.id, TelegramLink.sealed_chat_id)).all())
        notice_to = session.execute(select(BotNotice.principal_id)).scalar_one()
        ana_link = session.execute(
            select(TelegramLink.id).where(TelegramLink.principal_id == notice_to)
        ).scalar_one()
        budis = next(sealed for link_id, sealed in links.items() if link_id != ana_link)
        # Someone who can write the database sends Ana's notices into Budi's chat: it won't open.
        session.execute(
            update(TelegramLink).where(TelegramLink.id == ana_link).values(sealed_chat_id=budis)
        )
    runtime.bot = sender = RecordingSender()
    with capture_logs() as logs:
        assert runtime.send_bot_notices() == 0
    assert sender.sent == []
    [(state, attempts, error)] = notice_states(runtime)
    assert state == DeliveryState.FAILED and attempts == 1
    assert error is not None and "does not open" in error and "link" in error
    assert "bot_notice.gave_up" in [entry["event"] for entry in logs]
    assert all(str(BUDI_CHAT) not in repr(entry) for entry in logs)
    assert runtime.send_bot_notices() == 0  # not tried again
    assert notice_states(runtime) == [(state, attempts, error)]


@pytest.fixture
def restarted(runtime: Runtime) -> Iterator[Runtime]:
    """Another process over the same database and secret key, with a new bot token."""
    settings = runtime.settings.model_copy(
        update={"telegram_token": SecretStr("987654:a-new-token-CCCCCCCCCCCCCCCCCCCCCCCC")}
    )
    again = build_runtime(settings)
    yield again
    again.close()


def test_a_link_outlives_a_restart_and_a_new_bot_token(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, tokens: Tokens, restarted: Runtime
) -> None:
    link(bot, client, runtime, "Hotline B", "budi@hotline-b.example", BUDI, BUDI_CHAT)
    queue_notice(bot, client, runtime, tokens, BUDI, BUDI_CHAT)
    restarted.bot = sender = RecordingSender()
    assert restarted.send_bot_notices() == 1
    assert sender.sent[0][1].chat_id == BUDI_CHAT
    after = FlaggerBot.for_runtime(restarted)
    assert "/start CODE" in text_of(tell(after, ANA, ANA_CHAT, "/help"))  # a stranger still
    assert "/start CODE" not in text_of(tell(after, BUDI, BUDI_CHAT, "/help"))
    assert "accepted" in text_of(tell(after, BUDI, BUDI_CHAT, "https://t.me/beritakita/2 fraud"))
