"""The Telegram connector against the stand-in Bot API on 127.0.0.1: a channel's post comes in
through python-telegram-bot's long polling, is stored with its channel's metadata and screened;
a reviewer's removal reaches Telegram as exactly one ``deleteMessage``, whatever Telegram
answers (a wait, a message already gone); what the Bot API cannot do is refused when decided."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from structlog.testing import capture_logs

from tanggap.actions.models import Action
from tanggap.channels import service as channels
from tanggap.channels.models import Channel
from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.detection.models import Signal
from tanggap.platforms.botapi import BotApi
from tanggap.posts import service as posts
from tanggap.pseudonyms import user_ref
from tanggap.runtime import Runtime
from tanggap.telegram.intake import TelegramIntake
from tanggap.telegram.runner import ATTEMPTS
from tests.conftest import TEST_SECRET
from tests.factories import (
    FRAUD_TEXT,
    Tokens,
    bearer,
    decision_body,
    post_body,
    report_body,
    row_counts,
)
from tests.telegram_standin import (
    BotApiStandin,
    Refusal,
    channel_post,
    photo_sizes,
)
from tests.telegram_support import connector, taken, telegram_settings

CHANNEL_ID = -1001234567890
LINK = "https://t.me/beritapublik/7"


@pytest.fixture
def settings(settings: Settings, telegram_standin: BotApiStandin) -> Settings:
    """The test's settings with Telegram as the platform, its Bot API the stand-in."""
    return telegram_settings(settings, telegram_standin)


@pytest.fixture
def intake(runtime: Runtime, telegram_standin: BotApiStandin) -> Iterator[TelegramIntake]:
    """The connector's intake without the polling loop (updates handed over by the test)."""
    api = BotApi(token=telegram_standin.token, api_url=telegram_standin.url, timeout=5)
    yield TelegramIntake(runtime, api)
    api.close()


def jpeg(shade: int = 40) -> bytes:
    """A small photo with some structure (PDQ hashes it)."""
    image = Image.new("RGB", (128, 96))
    for x in range(128):
        for y in range(96):
            image.putpixel((x, y), ((x * shade) % 256, (y * 3) % 256, ((x ^ y) * 5) % 256))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


def removed(client: TestClient, tokens: Tokens, link: str = LINK, **fields: object) -> object:
    """Report the post, claim its case and decide; return the decision's answer."""
    receipt = client.post("/v1/reports", json=report_body(link), headers=bearer(tokens.flagger))
    assert receipt.status_code == 202, receipt.text
    case_id = receipt.json()["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    return client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body(**fields),
        headers=bearer(tokens.reviewer),
    )


def action_rows(runtime: Runtime) -> list[Action]:
    with runtime.factory() as session:
        return list(session.execute(select(Action).order_by(Action.created_at)).scalars())


def test_a_channel_post_comes_in_and_its_removal_deletes_it_once_on_telegram(
    client: TestClient, tokens: Tokens, runtime: Runtime, telegram_standin: BotApiStandin
) -> None:
    standin = telegram_standin
    standin.member_counts[CHANNEL_ID] = 12_345
    photo = jpeg()
    standin.add_file("photo-7", photo)
    with connector(runtime, standin):
        sizes = photo_sizes("photo-7", file_size=len(photo))
        standin.queue(
            channel_post(message_id=7, text="Hadiah undian", photo=sizes),
            # An edit comes as the whole message again: the photo, its new caption.
            channel_post(message_id=7, text=FRAUD_TEXT, photo=sizes, edited=True),
        )
        taken(standin)
    assert standin.confirmed > 0  # the library confirmed the offsets it took

    with runtime.factory() as session:
        channel = channels.get_by_handle(session=session, handle="beritapublik")
        assert channel is not None
        assert (channel.title, channel.subscribers) == ("Berita Publik", 12_345)
        assert (channel.platform, channel.platform_ref) == ("telegram", str(CHANNEL_ID))
        post = posts.get(session=session, handle="beritapublik", message_id=7)
        assert post is not None
        assert post.text == FRAUD_TEXT  # the edit kept the message id
        assert [m.sha256 for m in post.media] == [hashlib.sha256(photo).hexdigest()]
        assert post.media[0].pdq is not None and not post.media[0].pdq_pending
        assert post.author_ref == user_ref(secret_key=TEST_SECRET, platform_user_id=str(CHANNEL_ID))
        assert post.language == "id"
        sources = set(
            session.execute(select(Signal.source).where(Signal.post_id == post.id)).scalars()
        )
    assert any(source.startswith("rule") for source in sources), sources
    # The largest size of the photo was fetched (for the post and its edit); the member count
    # was asked once, then reused.
    assert [c.params for c in standin.calls("getFile")] == [{"file_id": "photo-7"}] * 2
    assert len(standin.calls("getChatMemberCount")) == 1

    decided = removed(client, tokens)
    assert decided.status_code == 201, decided.text  # type: ignore[attr-defined]
    assert [c.params for c in standin.calls("deleteMessage")] == [
        {"chat_id": CHANNEL_ID, "message_id": 7}
    ]
    runtime.deliver_actions(now=utcnow() + timedelta(hours=1))
    assert len(standin.calls("deleteMessage")) == 1
    assert [(a.kind, a.state, a.attempts) for a in action_rows(runtime)] == [
        ("remove_post", "delivered", 1)
    ]


def test_a_rate_limit_is_waited_out_and_a_message_already_gone_counts_as_deleted(
    client: TestClient, tokens: Tokens, runtime: Runtime, telegram_standin: BotApiStandin,
    intake: TelegramIntake,
) -> None:  # fmt: skip
    standin = telegram_standin
    assert (
        intake.handle({"update_id": 1, **channel_post(message_id=7, text=FRAUD_TEXT)}) == "stored"
    )
    standin.refuse_next(
        "deleteMessage", Refusal(429, "Too Many Requests: retry after 30", retry_after=30)
    )
    before = utcnow()
    assert removed(client, tokens).status_code == 201  # type: ignore[attr-defined]
    (waiting,) = action_rows(runtime)
    assert waiting.state == "pending"
    assert waiting.next_attempt_at >= before + timedelta(seconds=30)
    assert (
        waiting.last_error
        == "DeliveryFailed: Telegram deleteMessage: 429 Too Many Requests: retry after 30"
    )
    # Not before Telegram's wait (counted from when the answer was recorded), then at once.
    due = waiting.next_attempt_at
    assert runtime.deliver_actions(now=due - timedelta(seconds=1)) == 0
    assert runtime.deliver_actions(now=due) == 1
    assert len(standin.calls("deleteMessage")) == 2

    # Another post, deleted on Telegram before Tanggap's takedown came.
    link = "https://t.me/beritapublik/8"
    assert (
        intake.handle({"update_id": 2, **channel_post(message_id=8, text=FRAUD_TEXT)}) == "stored"
    )
    standin.refuse_next("deleteMessage", Refusal(400, "Bad Request: message to delete not found"))
    assert removed(client, tokens, link).status_code == 201  # type: ignore[attr-defined]
    assert [(a.state, a.attempts) for a in action_rows(runtime)] == [
        ("delivered", 2),
        ("delivered", 1),
    ]
    report = client.get("/v1/reports", headers=bearer(tokens.flagger)).json()["reports"]
    assert {r["status"] for r in report} == {"actioned"}


def test_what_the_bot_api_cannot_do_is_refused_when_decided(
    client: TestClient, tokens: Tokens, runtime: Runtime, intake: TelegramIntake
) -> None:
    assert (
        intake.handle({"update_id": 1, **channel_post(message_id=7, text=FRAUD_TEXT)}) == "stored"
    )
    receipt = client.post("/v1/reports", json=report_body(LINK), headers=bearer(tokens.flagger))
    case_id = receipt.json()["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    before = row_counts(runtime)
    for outcome, extra in (("geo_restrict", {"countries": ["ID"]}), ("ban_channel", {})):
        refused = client.post(
            f"/v1/cases/{case_id}/decision",
            json=decision_body(outcome, **extra),
            headers=bearer(tokens.reviewer),
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] == "outcome" and "Telegram's Bot API cannot" in error["message"]
    assert row_counts(runtime) == before  # nothing recorded, nothing queued
    case = client.get(f"/v1/cases/{case_id}", headers=bearer(tokens.reviewer)).json()
    assert case["state"] == "in_review"
    decided = client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
    )
    assert decided.status_code == 201 and decided.json()["actions"][0]["kind"] == "remove_post"


def test_what_telegram_does_not_tell_leaves_the_stored_channel_as_it_was(
    runtime: Runtime, telegram_standin: BotApiStandin, intake: TelegramIntake
) -> None:
    standin = telegram_standin
    standin.member_counts[CHANNEL_ID] = 500
    assert intake.handle({"update_id": 1, **channel_post(message_id=7)}) == "stored"
    # A process started later, whose bot may no longer read the member list.
    standin.refuse_next(
        "getChatMemberCount", Refusal(400, "Bad Request: member list is inaccessible")
    )
    later = TelegramIntake(runtime, intake.api)
    assert later.handle({"update_id": 2, **channel_post(message_id=8)}) == "stored"
    with runtime.factory() as session:
        channel = channels.get_by_handle(session=session, handle="beritapublik")
        assert channel is not None and channel.subscribers == 500


def test_an_update_the_database_refused_is_taken_again_before_its_offset_is_confirmed(
    runtime: Runtime, telegram_standin: BotApiStandin
) -> None:
    standin = telegram_standin
    attempts: list[int] = []  # the offset Telegram had confirmed at each attempt to store

    def database_away_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO posts"):
            attempts.append(standin.confirmed)
            if len(attempts) == 1:
                raise OperationalError(statement, {}, Exception("the database went away"))

    (update_id,) = standin.queue(channel_post(message_id=7, text="Kabar pagi"))
    event.listen(runtime.engine, "before_cursor_execute", database_away_once)
    try:
        with connector(runtime, standin):
            standin.wait_confirmed(update_id)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", database_away_once)
    # Stored at the second attempt; until then Telegram kept the update (not confirmed).
    assert len(attempts) == 2 and all(confirmed <= update_id for confirmed in attempts)
    with runtime.factory() as session:
        post = posts.get(session=session, handle="beritapublik", message_id=7)
        assert post is not None and post.text == "Kabar pagi"


def test_a_chat_takes_over_no_channel_that_is_not_its_own(
    client: TestClient, tokens: Tokens, runtime: Runtime, telegram_standin: BotApiStandin,
    intake: TelegramIntake,
) -> None:  # fmt: skip
    standin = telegram_standin
    assert intake.handle({"update_id": 1, **channel_post(message_id=7, text="Asli")}) == "stored"
    # Another public chat now bears the name (the first renamed itself, or it is a look-alike).
    impostor = channel_post(chat_id=-1009999999999, message_id=7, text="Palsu")
    assert intake.handle({"update_id": 2, **impostor}) == "skipped"
    # A channel of the built-in pages: not Telegram's to write, whatever its name.
    posted = client.post(
        "/v1/posts",
        json=post_body(channel="kanalweb", message_id=1, text="Dari web"),
        headers=bearer(tokens.platform),
    )
    assert posted.status_code == 201, posted.text
    with runtime.factory() as session, session.begin():
        session.execute(
            update(Channel).where(Channel.handle == "kanalweb").values(platform="builtin")
        )
    web = channel_post(chat_id=-1008888888888, username="KanalWeb", message_id=1, text="Palsu")
    assert intake.handle({"update_id": 3, **web}) == "skipped"
    # A public group the bot was added to, but not as an admin: not one it moderates.
    standin.not_admin_of.add(-1007777777777)
    foreign = channel_post(chat_id=-1007777777777, username="GrupLain", message_id=1)
    assert intake.handle({"update_id": 4, **foreign}) == "skipped"

    with runtime.factory() as session:
        ours = channels.get_by_handle(session=session, handle="beritapublik")
        assert ours is not None and ours.platform_ref == str(CHANNEL_ID)
        kept = posts.get(session=session, handle="beritapublik", message_id=7)
        assert kept is not None and kept.text == "Asli"
        web_post = posts.get(session=session, handle="kanalweb", message_id=1)
        assert web_post is not None and web_post.text == "Dari web"
        assert channels.get_by_handle(session=session, handle="gruplain") is None


def test_an_update_that_always_fails_is_skipped_and_the_chats_behind_it_go_on(
    runtime: Runtime, telegram_standin: BotApiStandin
) -> None:
    standin = telegram_standin
    attempts: list[int] = []

    def poisoned(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.startswith("INSERT INTO posts") and "Racun" in str(parameters):
            attempts.append(1)
            raise IntegrityError(statement, {}, Exception("a constraint it always breaks"))

    poison, after = standin.queue(
        channel_post(message_id=7, text="Racun"), channel_post(message_id=8, text="Kabar siang")
    )
    event.listen(runtime.engine, "before_cursor_execute", poisoned)
    try:
        with capture_logs() as logs, connector(runtime, standin, first_wait=0.01):
            standin.wait_confirmed(after)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", poisoned)
    assert len(attempts) == ATTEMPTS  # tried, then given up: not waited on for ever
    skipped = [e for e in logs if e["event"] == "telegram.update_skipped"]
    # (The single-post path reads the post again after an IntegrityError, as after a race.)
    assert [(e["update_id"], e["reason"]) for e in skipped] == [
        (poison, f"failed {ATTEMPTS} times: NoResultFound")
    ]
    with runtime.factory() as session:
        assert posts.get(session=session, handle="beritapublik", message_id=7) is None
        stored = posts.get(session=session, handle="beritapublik", message_id=8)
        assert stored is not None and stored.text == "Kabar siang"
