"""The flaggers' bot at work: links with a category word or a button, every line's fate, the
organisation's language, notices of the member's reports delivered once through the outbox, and
a reply to a notice written on the report's thread."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from tanggap import jobs
from tanggap.auth.models import Principal
from tanggap.db.base import utcnow
from tanggap.flaggers.models import BotSubmission, FlaggerOrg, TelegramLink
from tanggap.notify.models import BotNotice
from tanggap.outbox import DeliveryState
from tanggap.reports.models import Report, ReportMessage
from tanggap.runtime import Runtime
from tanggap.telegram.conversation import MAX_MESSAGE_CHARS, FlaggerBot
from tests.bot_helpers import Member, RecordingSender, linked_member, say, text_of
from tests.factories import Tokens, bearer, decision_body, post_body, row_counts

ANA, BUDI, CITRA = 700_000_001, 700_000_002, 700_000_003


@pytest.fixture
def bot(runtime: Runtime, client: TestClient, tokens: Tokens) -> FlaggerBot:
    for message_id in range(1, 6):
        posted = client.post(
            "/v1/posts", json=post_body(message_id=message_id), headers=bearer(tokens.platform)
        )
        assert posted.status_code == 201, posted.text
    return FlaggerBot.for_runtime(runtime)


@pytest.fixture
def ana(bot: FlaggerBot, client: TestClient, runtime: Runtime) -> Member:
    """A linked member of an Indonesian organisation."""
    return linked_member(bot, client, runtime, "Cyber Desk A", "ana@desk-a.example", ANA)


def reports_of(runtime: Runtime) -> list[tuple[str, int]]:
    with runtime.factory() as session:
        return [
            (category, post_id)
            for category, post_id in session.execute(
                select(Report.category, Report.post_id).order_by(Report.post_id)
            )
        ]


def test_links_with_a_category_word_get_every_line_fate(
    bot: FlaggerBot, ana: Member, runtime: Runtime
) -> None:
    message = (
        "https://t.me/beritakita/1\n"
        "t.me/beritakita/2 https://t.me/beritakita/2\n"  # the second is a duplicate of the first
        "https://t.me/beritakita/999\n"  # a post Tanggap never saw
        "https://t.me/+AbCdEf\n"  # an invite link: malformed
        "Penipuan"
    )
    replies = say(bot, ANA, message)
    text = text_of(replies)
    assert text.startswith("Penipuan: 2 diterima, 3 tidak.")
    lines = text.split("\n")[1:]
    assert [line.split(" — ")[1].split(",")[0].split(":")[0] for line in lines] == [
        "diterima",
        "diterima",
        "sudah dilaporkan",
        "bukan postingan yang dikenal Tanggap",
        "tidak diterima",
    ]
    with runtime.factory() as session:
        found = list(session.execute(select(Report)).scalars())
    assert sorted(str(report.id) for report in found) == sorted(
        {line.rsplit(" ", 1)[1] for line in lines[:3]}
    )
    assert {(report.category, report.source) for report in found} == {("fraud", "flagger")}
    assert len({report.submitted_by_id for report in found}) == 1
    # The category's id and its English name work as well as the Indonesian one.
    assert "1 diterima" in text_of(say(bot, ANA, "https://t.me/beritakita/3 illegal_gambling"))
    assert "1 diterima" in text_of(say(bot, ANA, "#drugs\nhttps://t.me/beritakita/4"))
    assert "1 diterima" in text_of(say(bot, ANA, "https://t.me/beritakita/5 Judi ONLINE"))
    assert [category for category, _ in reports_of(runtime)][-3:] == [
        "illegal_gambling",
        "drugs",
        "illegal_gambling",
    ]


def test_links_without_a_category_get_a_keyboard_pressed_once(
    bot: FlaggerBot, ana: Member, client: TestClient, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    asked = say(bot, ANA, "https://t.me/beritakita/1\nhttps://t.me/beritakita/2")
    assert len(asked) == 1 and "2 tautan diterima" in asked[0].text
    buttons = [button for row in asked[0].buttons for button in row]
    assert [button.label for button in buttons][:2] == [
        "Konten terorisme",
        "Materi kekerasan seksual terhadap anak",
    ]
    assert all(len(button.data.encode()) <= 64 for button in buttons)
    fraud = next(button for button in buttons if button.label == "Penipuan")
    assert row_counts(runtime)["reports"] == before["reports"]

    # Another member presses Ana's button (a forwarded keyboard): refused, nothing sent.
    linked_member(bot, client, runtime, "Hotline B", "budi@hotline-b.example", BUDI)
    held = row_counts(runtime)
    assert "another member" in text_of(say(bot, BUDI, pressed=fraud.data))
    assert "/start CODE" in text_of(say(bot, CITRA, pressed=fraud.data))  # a stranger
    assert "not one I know" in text_of(say(bot, BUDI, pressed="c:nonsense"))
    assert row_counts(runtime) == held

    done = say(bot, ANA, pressed=fraud.data)
    assert text_of(done).startswith("Penipuan: 2 diterima, 0 tidak.")
    assert reports_of(runtime) == [("fraud", 1), ("fraud", 2)]
    after = row_counts(runtime)
    assert "sudah dikirim" in text_of(say(bot, ANA, pressed=fraud.data))  # pressed twice
    assert row_counts(runtime) == after

    unknown = say(bot, ANA, "https://t.me/beritakita/3 kucing")
    assert "“kucing” bukan kategori" in unknown[0].text and unknown[0].buttons


def test_the_language_follows_the_organisation(
    bot: FlaggerBot, client: TestClient, runtime: Runtime
) -> None:
    linked_member(bot, client, runtime, "Hotline B", "budi@hotline-b.example", BUDI)
    help_text = text_of(say(bot, BUDI, "/help", language_code="id"))
    assert "Send one or many t.me links" in help_text and "Fraud and scams" in help_text
    fates = text_of(say(bot, BUDI, "https://t.me/beritakita/1 fraud"))
    assert fates.startswith("Fraud and scams: 1 accepted, 0 not.")
    linked_member(bot, client, runtime, "Cyber Desk A", "ana@desk-a.example", ANA)
    assert "Kirim satu atau banyak" in text_of(say(bot, ANA, "/help", language_code="en"))


def test_a_long_answer_is_split_into_telegram_sized_messages(bot: FlaggerBot, ana: Member) -> None:
    links = [f"https://t.me/beritakita/{1000 + n}" for n in range(150)]
    replies = say(bot, ANA, "\n".join(links) + "\nfraud")
    assert len(replies) >= 2
    assert all(len(reply.text) <= MAX_MESSAGE_CHARS for reply in replies)
    lines = text_of(replies).split("\n")[1:]
    assert len(lines) == 150 and all("bukan postingan" in line for line in lines)


def test_too_many_links_are_refused_whole(bot: FlaggerBot, ana: Member, runtime: Runtime) -> None:
    before = row_counts(runtime)
    links = "\n".join(f"t.me/beritakita/{n}" for n in range(1001))
    assert "Paling banyak 1000" in text_of(say(bot, ANA, links + "\nfraud"))
    assert row_counts(runtime) == before


def names(runtime: Runtime, http: httpx.Client) -> list[str]:
    return [dispatcher.name for dispatcher in jobs.background_jobs(runtime, http)]


def test_notices_go_out_once_and_a_reply_reaches_the_thread(
    bot: FlaggerBot, ana: Member, client: TestClient, runtime: Runtime, tokens: Tokens
) -> None:
    say(bot, ANA, "https://t.me/beritakita/1 fraud")
    with runtime.factory() as session:
        report = session.execute(select(Report)).scalar_one()
        report_id, case_id = report.id, report.case_id
        assert session.execute(select(BotNotice)).scalars().all() == []  # the reply said so
    assert runtime.send_bot_notices() == 0  # no bot configured: nothing sent, nothing lost

    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    written = client.post(
        f"/v1/reports/{report_id}/messages",
        json={"body": "Mohon kirim tangkapan layar."},
        headers=bearer(tokens.reviewer),
    )
    assert written.status_code == 201, written.text
    assert runtime.send_bot_notices() == 0  # queued, waiting for a bot
    with httpx.Client() as http:
        assert jobs.bot_notice_dispatcher(runtime).name not in names(runtime, http)
        sender = RecordingSender()
        runtime.bot = sender
        assert jobs.bot_notice_dispatcher(runtime).name in names(runtime, http)
    delivered = runtime.send_bot_notices()
    assert runtime.send_bot_notices() == 0  # never twice
    assert delivered == len(sender.sent) == 1  # the message (in review is not told in the chat)
    message_id, notice = sender.sent[0]
    assert notice.chat_id == ANA and "Mohon kirim tangkapan layar." in notice.text
    assert f"Laporan {report_id}" in notice.text and "Balas pesan ini" in notice.text

    with capture_logs() as logs:
        answered = say(bot, ANA, "Tangkapan layar menyusul.", reply_to=message_id)
    assert f"Ditulis di utas laporan {report_id}" in text_of(answered)
    assert all("Tangkapan" not in repr(entry) and str(ANA) not in repr(entry) for entry in logs)
    with runtime.factory() as session:
        thread = session.execute(
            select(ReportMessage.author_role, ReportMessage.body)
            .where(ReportMessage.report_id == report_id)
            .order_by(ReportMessage.created_at)
        ).all()
    assert thread[-1] == ("flagger", "Tangkapan layar menyusul.")
    assert runtime.send_bot_notices() == 0  # the member's own message is not told back

    before = row_counts(runtime)
    not_notice = say(bot, ANA, "Ini jawaban.", reply_to=answered[0].reply_to_message_id or 1)
    assert "bukan pemberitahuan" in text_of(not_notice)
    assert row_counts(runtime) == before

    decided = client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
    )
    assert decided.status_code in (200, 201), decided.text
    runtime.deliver_actions()
    assert runtime.send_bot_notices() == 1
    assert "Status: ditindak." in sender.sent[-1][1].text
    assert "Hasil: dihapus." in sender.sent[-1][1].text


@pytest.mark.parametrize("gone", ["unlinked", "member disabled", "organisation disabled"])
def test_a_notice_to_a_member_who_unlinked_or_was_disabled_is_given_up(
    bot: FlaggerBot, ana: Member, client: TestClient, runtime: Runtime, tokens: Tokens, gone: str
) -> None:
    say(bot, ANA, "https://t.me/beritakita/1 fraud")
    with runtime.factory() as session:
        case_id = session.execute(select(Report.case_id)).scalar_one()
    report_id = reports_of_ids(runtime)[0]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    client.post(
        f"/v1/reports/{report_id}/messages", json={"body": "Ada?"}, headers=bearer(tokens.reviewer)
    )
    with runtime.factory() as session, session.begin():
        assert session.execute(select(func.count()).select_from(BotNotice)).scalar_one() == 1
        member = session.execute(select(TelegramLink.principal_id)).scalar_one()
        if gone == "member disabled":
            session.execute(
                update(Principal).where(Principal.id == member).values(disabled_at=utcnow())
            )
        elif gone == "organisation disabled":
            org = select(Principal.org_id).where(Principal.id == member).scalar_subquery()
            session.execute(
                update(FlaggerOrg).where(FlaggerOrg.id == org).values(disabled_at=utcnow())
            )
    if gone == "unlinked":
        ana.browser.post("/portal/telegram/unlink", data={"csrf_token": ana.csrf})
    runtime.bot = sender = RecordingSender()
    assert runtime.send_bot_notices() == 0 and sender.sent == []
    with runtime.factory() as session:
        states = set(session.execute(select(BotNotice.state)).scalars())
    assert states == {DeliveryState.FAILED}


def reports_of_ids(runtime: Runtime) -> list[str]:
    with runtime.factory() as session:
        return [str(report_id) for report_id in session.execute(select(Report.id)).scalars()]


def test_status_of_a_report(
    bot: FlaggerBot, ana: Member, client: TestClient, runtime: Runtime
) -> None:
    say(bot, ANA, "https://t.me/beritakita/1 fraud")
    with runtime.factory() as session:
        report_id = session.execute(select(Report.id)).scalar_one()
    shown = text_of(say(bot, ANA, f"/status {report_id}"))
    assert "Kategori: Penipuan" in shown and "https://t.me/beritakita/1" in shown
    linked_member(bot, client, runtime, "Hotline B", "budi@hotline-b.example", BUDI)
    assert "No report" in text_of(say(bot, BUDI, f"/status {report_id}"))  # another organisation
    assert "/status" in text_of(say(bot, BUDI, "/status soon"))


def test_a_button_pressed_too_late_sends_nothing(
    bot: FlaggerBot, ana: Member, runtime: Runtime
) -> None:
    asked = say(bot, ANA, "https://t.me/beritakita/1")
    fraud = next(b for row in asked[0].buttons for b in row if b.label == "Penipuan")
    with runtime.factory() as session, session.begin():
        held = session.execute(select(BotSubmission)).scalar_one()
        held.expires_at = utcnow() - timedelta(seconds=1)
    before = row_counts(runtime)
    assert "menunggu terlalu lama" in text_of(say(bot, ANA, pressed=fraud.data))
    assert row_counts(runtime) == before
    say(bot, ANA, "https://t.me/beritakita/2")  # a new hold clears the stale one
    with runtime.factory() as session:
        assert [h.links for h in session.execute(select(BotSubmission)).scalars()] == [
            "https://t.me/beritakita/2"
        ]
