"""The flaggers' bot's pure parts: reading a message as links and a category, splitting long
answers, its texts in both languages, and how a notice reads."""

from __future__ import annotations

import string
import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tanggap.notify.bot import notice_text
from tanggap.notify.port import ReportChange, ThreadNote
from tanggap.telegram.conversation import read_submission, split_message
from tanggap.telegram.texts import TEXTS, language_of


def test_links_are_read_one_per_line_or_several_per_line() -> None:
    parsed = read_submission(
        "https://t.me/a/1  t.me/a/2\nwww.t.me/a/3\ntelegram.me/a/4 tg://resolve?domain=a&post=5\n"
        "judi   online"
    )
    assert parsed.links == [
        "https://t.me/a/1",
        "t.me/a/2",
        "www.t.me/a/3",
        "telegram.me/a/4",
        "tg://resolve?domain=a&post=5",
    ]
    assert parsed.rest == "judi online"
    assert read_submission("fraud").links == []


@given(st.text(alphabet=string.ascii_letters + " \n", max_size=20_000))
def test_a_split_answer_keeps_every_character_within_the_limit(text: str) -> None:
    parts = split_message(text, limit=100)
    assert all(len(part) <= 100 for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_a_split_answer_breaks_between_lines() -> None:
    lines = [f"{n}. https://t.me/kanal/{n} — diterima" for n in range(300)]
    parts = split_message("\n".join(lines))
    assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines


def test_every_text_has_both_languages_and_the_same_placeholders() -> None:
    for key, text in TEXTS.items():
        assert set(text) == {"en", "id"}, key
        names = [
            {name for _, name, _, _ in string.Formatter().parse(text[lang]) if name}
            for lang in ("en", "id")
        ]
        assert names[0] == names[1], key
    assert language_of("id") == language_of("in") == "id"
    assert language_of("en-US") == language_of(None) == language_of("ms") == "en"


def test_a_notice_reads_in_the_organisation_language() -> None:
    report = {
        "report_id": "r-1",
        "status": "actioned",
        "target": {"url": "https://t.me/kanal/7"},
        "outcome": "remove",
        "explanation": "Penipuan hadiah.",
    }
    change = ReportChange(report_id=uuid.uuid4(), org_id=None, event="report.actioned")
    assert notice_text(change, report, "id").split("\n") == [
        "Laporan r-1",
        "https://t.me/kanal/7",
        "Status: ditindak.",
        "Hasil: dihapus. Penipuan hadiah.",
    ]
    note = ThreadNote(uuid.uuid4(), "platform", "message", "Kirim bukti.", datetime.now(UTC))
    message = ReportChange(
        report_id=change.report_id, org_id=None, event="report.message", message=note
    )
    english = notice_text(message, report, "en")
    assert "Message from the platform:\nKirim bukti." in english
    assert english.endswith("Reply to this message to answer on the report's thread.")
