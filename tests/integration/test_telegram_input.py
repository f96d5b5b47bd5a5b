"""Bad input to the Telegram connector changes nothing and is logged without personal data; no
raw Telegram user id reaches the database or a log; ``tanggap telegram run`` as a real process,
and its refusals to start."""

from __future__ import annotations

import logging
import subprocess
from typing import Any

import pytest
from structlog.testing import capture_logs

from tanggap.config import Settings
from tanggap.posts import service as posts
from tanggap.pseudonyms import user_ref
from tanggap.runtime import Runtime
from tanggap.telegram.intake import INSTRUCTIONS
from tests.conftest import TEST_SECRET
from tests.factories import FRAUD_TEXT, row_counts
from tests.integration.test_stream_processes import environment
from tests.privacy_dump import dump
from tests.telegram_standin import BotApiStandin, channel_post, group_message, private_message
from tests.telegram_support import BARRIER_USER, connector, taken, telegram_settings
from tests.workers import TANGGAP, Worker

MEMBER = 5_550_001_234  # a group member: their id must never be kept raw
STRANGER = 5_550_009_876  # someone who writes to the bot in private


@pytest.fixture
def settings(settings: Settings, telegram_standin: BotApiStandin) -> Settings:
    """The test's settings with Telegram as the platform, its Bot API the stand-in."""
    return telegram_settings(settings, telegram_standin)


def test_bad_input_is_skipped_logged_without_personal_data_and_changes_nothing(
    runtime: Runtime, telegram_standin: BotApiStandin, caplog: pytest.LogCaptureFixture
) -> None:
    standin = telegram_standin
    caplog.set_level(logging.DEBUG)
    huge = [{"file_id": "huge", "file_unique_id": "h", "width": 9000, "height": 9000,
             "file_size": 15_000_000}]  # fmt: skip
    # getFile says the photo is small; its download says otherwise.
    standin.add_file("liar", b"\xff" * 300_000, file_size=1000)
    liar = [{"file_id": "liar", "file_unique_id": "l", "width": 800, "height": 600,
             "file_size": 1000}]  # fmt: skip
    with capture_logs() as logs, connector(runtime, standin):
        taken(standin)  # the connector runs
        before = row_counts(runtime)
        ids = standin.queue(
            {"message": "not an object"},
            {"channel_post": {"message_id": 5, "date": 1700000000}},  # no chat
            channel_post(username=None, message_id=6),  # a private channel
            group_message(user_id=MEMBER, username=None),  # a group without a public name
            channel_post(message_id=9, text=None, photo=huge),
            channel_post(message_id=10, text=None, photo=liar),
            {"poll": {"id": "1"}},  # what the bot never asked for, malformed too
            private_message(user_id=STRANGER, text="/start 123456"),
        )
        taken(standin)
        standin.wait_confirmed(ids[-1])  # nothing stalled the loop
        assert row_counts(runtime) == before

    answers = [c.params for c in standin.calls("sendMessage") if c.params["chat_id"] == STRANGER]
    assert answers == [{"chat_id": STRANGER, "text": INSTRUCTIONS}]
    skipped = {
        (e["update_id"], e["reason"]) for e in logs if e["event"] == "telegram.update_skipped"
    }
    assert skipped >= {
        (ids[0], "malformed: not readable as a Telegram update"),
        (ids[1], "malformed: no message, chat, message_id or date"),
        (ids[2], "not a public chat (no username)"),
        (ids[3], "not a public chat (no username)"),
        (ids[4], "photo skipped: every size is larger than 200000 bytes"),
        (ids[5], "nothing left to store without its photo"),
        (ids[6], "malformed: not readable as a Telegram update"),  # a poll missing fields
    }, skipped
    photo_skips = [e["reason"] for e in logs if e["event"] == "telegram.photo_skipped"]
    assert "the file is larger than 200000 bytes" in photo_skips
    logged = str(logs) + caplog.text
    for personal in (str(MEMBER), str(STRANGER), "Budi", "budi_k", "Siti", "123456"):
        assert personal not in logged, personal
    assert standin.token not in logged


def test_no_raw_telegram_user_id_reaches_the_database_or_the_logs(
    runtime: Runtime, telegram_standin: BotApiStandin, caplog: pytest.LogCaptureFixture
) -> None:
    standin = telegram_standin
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs, connector(runtime, standin):
        standin.queue(
            group_message(user_id=MEMBER, text=FRAUD_TEXT, message_id=3),
            private_message(user_id=STRANGER),
        )
        taken(standin)
    with runtime.factory() as session:
        post = posts.get(session=session, handle="obrolankota", message_id=3)
        assert post is not None
        assert post.author_ref == user_ref(secret_key=TEST_SECRET, platform_user_id=str(MEMBER))
    stored = "\n".join(dump(runtime.engine).values())
    logged = str(logs) + caplog.text
    for raw in (str(MEMBER), str(STRANGER), str(BARRIER_USER), "budi_k"):
        assert raw not in stored, raw
        assert raw not in logged, raw


def run_command(env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [TANGGAP, "telegram", "run"], env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stderr


def test_tanggap_telegram_run_as_a_process(
    database_url: str,
    database_backend: tuple[str, str],
    runtime: Runtime,
    telegram_standin: BotApiStandin,
) -> None:
    if database_backend[0] != "sqlite":
        pytest.skip("the connector's database work is checked in-process on both databases")
    standin = telegram_standin
    telegram: dict[str, Any] = {
        "TANGGAP_TELEGRAM_API_URL": standin.url,
        "TANGGAP_PLATFORM": "telegram",
    }
    code, said = run_command(environment(database_url, **telegram))
    assert code == 1 and said.strip().splitlines()[-1] == (
        "error: TANGGAP_TELEGRAM_TOKEN is required when TANGGAP_PLATFORM=telegram "
        "(the bot's token from @BotFather)"
    )
    wrong = "999:not-the-token-of-this-bot"
    code, said = run_command(environment(database_url, **telegram, TANGGAP_TELEGRAM_TOKEN=wrong))
    assert code == 1 and "error: TANGGAP_TELEGRAM_TOKEN: Telegram refused the bot's token" in said
    assert wrong not in said

    process = subprocess.Popen(
        [TANGGAP, "telegram", "run"],
        env=environment(database_url, **telegram, TANGGAP_TELEGRAM_TOKEN=standin.token),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker = Worker(process)
    try:
        worker.wait_for("telegram.running", timeout=60)
        (update_id,) = standin.queue(channel_post(message_id=11, text=FRAUD_TEXT))
        stored = worker.wait_for("telegram.post_stored")
        assert (stored["channel"], stored["message_id"], stored["created"]) == (
            "beritapublik", 11, True
        )  # fmt: skip
    finally:
        code = worker.stop()
    assert code == 0
    standin.wait_confirmed(update_id)  # confirmed on the way out
    with runtime.factory() as session:
        assert posts.get(session=session, handle="beritapublik", message_id=11) is not None
    assert worker.events("telegram.stopped")
    assert standin.token not in "".join(worker.seen)
