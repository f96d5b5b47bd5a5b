"""Migration 0019 converts the links of the flaggers' bot kept before it (raw Telegram ids) into a
lookup digest and a sealed chat id, under the secret key the application runs with: the member is
still known to the bot and still hears of their reports, and no raw id is left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient

from tanggap.auth.models import Principal
from tanggap.db.migrate import alembic_config, upgrade
from tanggap.reports.models import Report
from tanggap.runtime import Runtime
from tanggap.telegram.conversation import FlaggerBot
from tanggap.telegram.port import PrivateMessage
from tests.bot_helpers import RecordingSender, text_of
from tests.conftest import TEST_SECRET
from tests.factories import Tokens, bearer, post_body
from tests.portal_helpers import add_member

BUDI, BUDI_CHAT = 700_000_303, 800_000_303
LINKS_BEFORE = sa.table(
    "telegram_links",
    sa.column("id", sa.Uuid()),
    sa.column("principal_id", sa.Uuid()),
    sa.column("telegram_user_id", sa.BigInteger()),
    sa.column("chat_id", sa.BigInteger()),
    sa.column("linked_at", sa.DateTime(timezone=True)),
)


def tell(bot: FlaggerBot, text: str, message_id: int) -> str:
    """Send the bot a private message from Budi's chat; return its answer."""
    message = PrivateMessage(
        user_id=BUDI, chat_id=BUDI_CHAT, message_id=message_id, text=text, language_code="en"
    )
    return text_of(bot.handle(message))


@pytest.mark.parametrize("key_from", ["caller", "environment"])
def test_a_link_kept_before_the_migration_still_works_after_it(
    database_url: str,
    runtime: Runtime,
    client: TestClient,
    tokens: Tokens,
    monkeypatch: pytest.MonkeyPatch,
    key_from: str,
) -> None:
    posted = client.post("/v1/posts", json=post_body(message_id=1), headers=bearer(tokens.platform))
    assert posted.status_code == 201, posted.text
    add_member(runtime, "Hotline B", "budi@hotline-b.example")
    with runtime.factory() as session:
        budi = session.execute(
            sa.select(Principal.id).where(Principal.email == "budi@hotline-b.example")
        ).scalar_one()
    command.downgrade(alembic_config(database_url), "0015")
    with runtime.engine.begin() as conn:
        conn.execute(
            LINKS_BEFORE.insert().values(
                id=uuid.uuid4(),
                principal_id=budi,
                telegram_user_id=BUDI,
                chat_id=BUDI_CHAT,
                linked_at=datetime(2026, 12, 3, tzinfo=UTC),
            )
        )
    if key_from == "caller":
        upgrade(database_url, secret_key=TEST_SECRET)
    else:  # as the application reads it
        monkeypatch.setenv("TANGGAP_SECRET_KEY", TEST_SECRET)
        upgrade(database_url)

    with runtime.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM telegram_links")).one()
    assert len(row) == 5
    for raw in (str(BUDI), str(BUDI_CHAT)):
        assert all(raw not in str(value) for value in row), raw

    bot = FlaggerBot.for_runtime(runtime)
    assert "/start CODE" not in tell(bot, "/help", 1)  # known by the digest the migration wrote
    assert "accepted" in tell(bot, "https://t.me/beritakita/1 fraud", 2)
    with runtime.factory() as session:
        report_id, case_id = session.execute(sa.select(Report.id, Report.case_id)).one()
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    written = client.post(
        f"/v1/reports/{report_id}/messages", json={"body": "Ada?"}, headers=bearer(tokens.reviewer)
    )
    assert written.status_code == 201, written.text
    runtime.bot = sender = RecordingSender()
    assert runtime.send_bot_notices() == 1
    assert sender.sent[0][1].chat_id == BUDI_CHAT  # the chat id the migration sealed
