"""The flaggers' bot: linking with the portal's one-time code, unlinking from the portal, and
everything a stranger or a wrong code gets (instructions only, nothing written)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from structlog.testing import capture_logs

from tanggap.audit.models import AuditEvent
from tanggap.auth.models import Principal
from tanggap.db.base import utcnow
from tanggap.flaggers import telegram_links
from tanggap.flaggers.models import TelegramLink, TelegramLinkCode
from tanggap.flaggers.telegram_ids import LinkKeys
from tanggap.runtime import Runtime
from tanggap.telegram.conversation import FlaggerBot
from tests.bot_helpers import linked_member, portal_code, say, text_of
from tests.factories import Tokens, row_counts
from tests.portal_helpers import form_value, signed_in

ANA, BUDI, CITRA = 700_000_001, 700_000_002, 700_000_003


@pytest.fixture
def bot(runtime: Runtime, tokens: Tokens) -> FlaggerBot:
    return FlaggerBot.for_runtime(runtime)


@pytest.fixture
def browser(client: TestClient) -> TestClient:
    """The member's browser, with its own cookie jar."""
    return TestClient(client.app, raise_server_exceptions=False)


def links_of(runtime: Runtime) -> dict[int, str]:
    """Return every linked Telegram user (known by their digest) and the email of their member."""
    keys = LinkKeys.of(runtime.settings.secret_key)
    users = {keys.user_digest(user): user for user in (ANA, BUDI, CITRA)}
    with runtime.factory() as session:
        rows = session.execute(
            select(TelegramLink.user_digest, Principal.email).join(
                Principal, Principal.id == TelegramLink.principal_id
            )
        ).all()
    return {users[digest]: email for digest, email in rows}


def test_a_stranger_gets_instructions_only_and_nothing_is_written(
    bot: FlaggerBot, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    with capture_logs() as logs:
        for text in ("halo", "https://t.me/beritakita/1 fraud", "/status x", "/help", "/start"):
            replies = say(bot, ANA, text, language_code="id")
            assert len(replies) == 1 and "/start KODE" in replies[0].text
            assert "beritakita" not in replies[0].text
        english = say(bot, ANA, "hello", language_code="en-GB")
        pressed = say(bot, ANA, pressed="c:AAAAAAAAAAAAAAAAAAAAAA:0")
    assert "/start CODE" in text_of(english) and "/start CODE" in text_of(pressed)
    assert row_counts(runtime) == before
    assert logs and all(str(ANA) not in repr(entry) for entry in logs)


def test_a_member_links_with_the_portal_code_once(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, browser: TestClient
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"telegram_bot_username": "@TanggapBot"})
    csrf = signed_in(browser, runtime, "Cyber Desk A", "ana@desk-a.example")
    page = browser.get("/portal/telegram")
    assert page.status_code == 200 and "data-not-linked" in page.text
    first = browser.post("/portal/telegram/code", data={"csrf_token": csrf}).text
    assert 'href="https://t.me/TanggapBot?start=' in first and "@TanggapBot" in first
    code = portal_code(browser, csrf)
    shown = browser.get("/portal/telegram").text  # the code is shown once, never again
    assert code not in shown and "Sebuah kode berlaku sampai" in shown
    with capture_logs() as logs:
        linked = say(bot, ANA, f"/start {code}")
    assert "Cyber Desk A" in text_of(linked) and "Tertaut" in text_of(linked)  # Indonesian org
    assert links_of(runtime) == {ANA: "ana@desk-a.example"}
    assert "data-linked" in browser.get("/portal/telegram").text
    with runtime.factory() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "telegram.linked")
        ).scalar_one()
        assert str(ANA) not in event.data and json.loads(event.data) == {
            "relinked": False,
            "moved_from": [],
        }
        stored = session.execute(select(TelegramLinkCode)).scalars().all()
        assert stored == []  # used: gone
    assert all(str(ANA) not in repr(entry) and code not in repr(entry) for entry in logs)

    before = row_counts(runtime)
    reused = say(bot, BUDI, f"/start {code}", language_code="en")
    assert "wrong or was used already" in text_of(reused)
    assert row_counts(runtime) == before


def test_wrong_and_expired_codes_change_nothing(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, browser: TestClient
) -> None:
    signed_in(browser, runtime, "Cyber Desk A", "ana@desk-a.example")
    with runtime.factory() as session, session.begin():
        member_id = session.execute(
            select(Principal.id).where(Principal.email == "ana@desk-a.example")
        ).scalar_one()
        expired = telegram_links.issue_code(
            session=session, principal_id=member_id, now=utcnow() - timedelta(minutes=16)
        )
    before = row_counts(runtime)
    with capture_logs() as logs:
        too_late = say(bot, ANA, f"/start {expired}", language_code="en")
        wrong = say(bot, ANA, "/link ZZZZZZZZZZ", language_code="id")
        lowercase_wrong = say(bot, ANA, f"/start {expired.lower()}x")
    assert "expired" in text_of(too_late)
    assert "salah atau sudah dipakai" in text_of(wrong)
    assert "wrong or was used" in text_of(lowercase_wrong)
    assert row_counts(runtime) == before
    assert [entry.get("reason") for entry in logs if entry["event"] == "bot.refused"] == [
        "code_expired",
        "code_unknown",
        "code_unknown",
    ]
    # Read leniently: the code as typed with spaces and in lower case, before it expires.
    with runtime.factory() as session, session.begin():
        fresh = telegram_links.issue_code(session=session, principal_id=member_id)
    typed = f"{fresh[:5].lower()} {fresh[5:]}"
    assert "Tertaut" in text_of(say(bot, ANA, f"/start {typed}"))


def test_a_new_code_replaces_the_old_one(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, browser: TestClient
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "ana@desk-a.example")
    first = portal_code(browser, csrf)
    second = portal_code(browser, csrf)
    assert first != second
    assert "salah atau sudah dipakai" in text_of(
        say(bot, ANA, f"/start {first}", language_code="id")
    )
    assert "Tertaut" in text_of(say(bot, ANA, f"/start {second}"))


def test_relinking_moves_the_link(bot: FlaggerBot, client: TestClient, runtime: Runtime) -> None:
    ana = linked_member(bot, client, runtime, "Cyber Desk A", "ana@desk-a.example", ANA)
    # Ana links a new phone: the old account is a stranger now.
    say(bot, BUDI, f"/start {portal_code(ana.browser, ana.csrf)}")
    assert links_of(runtime) == {BUDI: "ana@desk-a.example"}
    assert "/start KODE" in text_of(say(bot, ANA, "/help", language_code="id"))
    # That phone is then linked to another member (Hotline B): the link moves with it.
    budi = TestClient(client.app, raise_server_exceptions=False)
    csrf = signed_in(budi, runtime, "Hotline B", "budi@hotline-b.example")
    moved = say(bot, BUDI, f"/start {portal_code(budi, csrf)}")
    assert "Linked: you report for Hotline B" in text_of(moved)
    assert links_of(runtime) == {BUDI: "budi@hotline-b.example"}
    assert "data-not-linked" in ana.browser.get("/portal/telegram").text
    with runtime.factory() as session:
        events = session.execute(
            select(AuditEvent.data)
            .where(AuditEvent.action == "telegram.linked")
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        ).scalars()
        relinked = [(data["relinked"], len(data["moved_from"])) for data in map(json.loads, events)]
    assert sorted(relinked) == [(False, 0), (False, 1), (True, 0)]


def test_unlinking_from_the_portal_forgets_the_account(
    bot: FlaggerBot, client: TestClient, runtime: Runtime
) -> None:
    ana = linked_member(bot, client, runtime, "Cyber Desk A", "ana@desk-a.example", ANA)
    before = row_counts(runtime)
    forged = ana.browser.post("/portal/telegram/unlink", data={"csrf_token": "not-the-token"})
    assert forged.status_code == 403 and row_counts(runtime) == before
    assert ana.browser.get("/portal/telegram").status_code == 200
    answer = ana.browser.post("/portal/telegram/unlink", data={"csrf_token": ana.csrf})
    assert answer.status_code == 200
    assert "data-unlinked" in answer.text and "data-not-linked" in answer.text
    assert links_of(runtime) == {}
    with runtime.factory() as session:
        unlinked = session.execute(
            select(func.count()).where(AuditEvent.action == "telegram.unlinked")
        ).scalar_one()
    assert unlinked == 1
    after = row_counts(runtime)
    assert "/start CODE" in text_of(say(bot, ANA, "https://t.me/beritakita/1 penipuan"))
    assert row_counts(runtime) == after
    again = ana.browser.post(
        "/portal/telegram/unlink",
        data={"csrf_token": form_value(answer.text, "csrf_token")},
    )
    assert again.status_code == 200 and row_counts(runtime) == after  # nothing left to unlink


def test_a_disabled_member_cannot_link_or_use_the_bot(
    bot: FlaggerBot, client: TestClient, runtime: Runtime, browser: TestClient
) -> None:
    csrf = signed_in(browser, runtime, "Cyber Desk A", "ana@desk-a.example")
    code = portal_code(browser, csrf)
    with runtime.factory() as session, session.begin():
        member = session.execute(
            select(Principal).where(Principal.email == "ana@desk-a.example")
        ).scalar_one()
        member.disabled_at = utcnow()
    before = row_counts(runtime)
    assert "may not use the bot" in text_of(say(bot, ANA, f"/start {code}", language_code="en"))
    assert row_counts(runtime) == before
