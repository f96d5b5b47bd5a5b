"""Posts from a real NATS JetStream stream (``nats-server -js``), consumed in this process on
both databases: stored once with detection, resends and redeliveries change nothing, edits
update, and bad messages go to the dead-letter subject while the rest of the batch is stored."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import uuid
from collections.abc import Callable

import nats
import pytest
from PIL import Image
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tanggap import metrics
from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller
from tanggap.config import Settings
from tanggap.detection.models import Signal
from tanggap.posts.models import Post
from tanggap.posts.schemas import PostIn
from tanggap.runtime import Runtime
from tanggap.stream.intake import StreamSetupError, store_batch, stream_caller
from tanggap.stream.setup import ensure_stream
from tests.factories import post_body
from tests.stream_support import (
    Consumer,
    counter,
    dead_letters,
    events,
    posts_stored,
    send,
    stream_drained,
)
from tests.workers import wait_until

GAMBLING = "Bocoran p0la gacooor malam ini, depo pulsa bisa bosku"  # a packaged rule flags it


def test_posts_from_the_stream_are_stored_once_with_detection(
    stream_runtime: Runtime, start_consumer: Callable[[], Consumer]
) -> None:
    created_before = counter("tanggap_stream_posts_total", outcome="created")
    consumer = start_consumer()
    send(stream_runtime, *(post_body(message_id=n, text=f"kabar {n}") for n in range(1, 5)))
    send(stream_runtime, post_body(message_id=5, text=GAMBLING))
    assert wait_until(lambda: posts_stored(stream_runtime) == 5)
    assert wait_until(lambda: stream_drained(stream_runtime))  # acknowledged after the commit
    consumer.stop()

    with stream_runtime.factory() as session:
        owners = set(session.execute(select(Post.ingested_by_id)).scalars())
        flagged = session.execute(
            select(Signal.source).join(Post, Post.id == Signal.post_id).where(Post.message_id == 5)
        ).scalars()
        assert list(flagged) == ["rule:gambling.slot-promo"]  # detection as on the HTTP path
    caller = stream_caller(stream_runtime, "stream platform")
    assert owners == {caller.id}
    assert events(stream_runtime, "post.ingested") == 5
    assert counter("tanggap_stream_posts_total", outcome="created") - created_before == 5
    assert b'tanggap_stream_posts_total{outcome="created"}' in metrics.exposition()
    assert dead_letters(stream_runtime) == []


def test_a_resend_or_a_redelivery_stores_one_post_and_one_event(
    stream_runtime: Runtime, start_consumer: Callable[[], Consumer]
) -> None:
    settings = stream_runtime.settings
    assert settings.nats_url is not None
    body = post_body(message_id=7, text="sekali saja")
    send(stream_runtime, body, body)  # published twice

    # A process stores the first delivery and dies before its acknowledgement: the server
    # delivers the message again (here at once, told so).
    async def store_then_hand_back() -> None:
        client = await nats.connect(settings.nats_url)
        js = client.jetstream()
        pull = await js.pull_subscribe_bind(
            durable=settings.stream_consumer, stream=settings.stream_name
        )
        [msg] = await pull.fetch(1, timeout=5)
        caller = stream_caller(stream_runtime, settings.stream_principal)
        store_batch(stream_runtime, caller, [PostIn.model_validate_json(msg.data)])
        await msg.nak()
        await client.close()

    asyncio.run(store_then_hand_back())
    assert posts_stored(stream_runtime) == 1
    redelivered_before = counter("tanggap_stream_redeliveries_total")
    unchanged_before = counter("tanggap_stream_posts_total", outcome="unchanged")

    consumer = start_consumer()
    assert wait_until(lambda: stream_drained(stream_runtime))
    consumer.stop()
    assert posts_stored(stream_runtime) == 1
    assert events(stream_runtime, "post.ingested") == 1
    assert events(stream_runtime, "post.updated") == 0
    assert counter("tanggap_stream_redeliveries_total") - redelivered_before == 1
    assert counter("tanggap_stream_posts_total", outcome="unchanged") - unchanged_before == 2


def test_an_edit_updates_the_stored_post(
    stream_runtime: Runtime, start_consumer: Callable[[], Consumer]
) -> None:
    consumer = start_consumer()
    send(stream_runtime, post_body(message_id=9, text="versi pertama"))
    assert wait_until(lambda: posts_stored(stream_runtime) == 1)
    send(stream_runtime, post_body(message_id=9, text="versi kedua, diedit"))
    assert wait_until(lambda: events(stream_runtime, "post.updated") == 1)
    assert wait_until(lambda: stream_drained(stream_runtime))
    consumer.stop()
    with stream_runtime.factory() as session:
        assert list(session.execute(select(Post.text)).scalars()) == ["versi kedua, diedit"]


def test_bad_messages_go_to_the_dead_letter_subject_naming_the_field(
    stream_runtime: Runtime, start_consumer: Callable[[], Consumer]
) -> None:
    # A post another platform principal sent first: the service refuses the stream's resend.
    with stream_runtime.factory() as session, session.begin():
        other = auth.create_principal(session=session, role="platform", name="other platform")
    store_batch(
        stream_runtime,
        Caller(id=other.id, role="platform", name=other.name, org_id=None),
        [PostIn(**post_body(message_id=99, text="milik platform lain"))],
    )
    missing = post_body(message_id=3)
    del missing["posted_at"]
    oversized = post_body(message_id=4, text="x" * 5000)
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(picture, "PNG")
    corrupt = [{"data": base64.b64encode(picture.getvalue()[:60]).decode()}]  # cut short
    dead_before = counter("tanggap_stream_dead_letters_total", reason="invalid_input")
    send(
        stream_runtime,
        post_body(message_id=1, text="yang baik"),
        b"{not json",
        missing,
        post_body(channel="bad handle!", message_id=5),
        oversized,
        post_body(message_id=99, text="diambil alih"),
        post_body(message_id=6, text="gambar rusak", media=corrupt),
        post_body(message_id=2, text="yang baik juga"),
    )
    consumer = start_consumer()  # after publishing: the eight arrive in one batch
    assert wait_until(lambda: stream_drained(stream_runtime))
    consumer.stop()

    letters = dead_letters(stream_runtime)
    assert [(d["error"], d["field"]) for d in letters] == [
        ("invalid_json", "message"),
        ("invalid_input", "posted_at"),
        ("invalid_input", "channel"),
        ("too_large", "message"),
        ("conflict", "message_id"),
        ("invalid_input", "media.0.data"),
    ]
    assert all(str(d["reason"]).startswith(f"{d['field']}: ") for d in letters)
    assert letters[0]["message"] == "{not json"
    assert json.loads(str(letters[1]["message"])) == missing
    assert "message" not in letters[3] and letters[3]["message_bytes"] == len(json.dumps(oversized))
    assert counter("tanggap_stream_dead_letters_total", reason="invalid_input") - dead_before == 3
    with stream_runtime.factory() as session:
        rows = session.execute(select(Post.message_id, Post.text))
        stored = {message_id: text for message_id, text in rows}
    # The rest of the batch is stored; the refused post is as it was.
    assert stored == {1: "yang baik", 2: "yang baik juga", 99: "milik platform lain"}
    assert events(stream_runtime, "post.updated") == 0


def _waiting_on_a_lock(session: Session) -> list[int]:
    """Return the server processes of this database that wait for a lock."""
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    )
    waiting = list(session.execute(query).scalars())
    session.commit()  # the statistics are a snapshot per transaction: read fresh ones next time
    return waiting


def test_a_database_outage_keeps_the_batch_unacknowledged_and_retries_it(
    database_backend: tuple[str, str],
    stream_runtime: Runtime,
    start_consumer: Callable[[], Consumer],
) -> None:
    if database_backend[0] != "postgresql":
        pytest.skip("the consumer's connection is cut with pg_terminate_backend (PostgreSQL)")
    redelivered_before = counter("tanggap_stream_redeliveries_total")
    with stream_runtime.factory() as holder, stream_runtime.factory() as watcher:
        # Hold the posts table, so the consumer's batch waits on it; then cut its connection.
        holder.execute(text("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE"))
        consumer = start_consumer()
        send(stream_runtime, post_body(message_id=11, text="tetap sampai"))
        assert wait_until(lambda: len(_waiting_on_a_lock(watcher)) == 1)
        [cut] = _waiting_on_a_lock(watcher)
        watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut})
        watcher.commit()
        # The batch is tried again on a new connection: it waits on the lock once more.
        assert wait_until(lambda: [pid for pid in _waiting_on_a_lock(watcher) if pid != cut] != [])
        holder.rollback()
    assert wait_until(lambda: stream_drained(stream_runtime))
    consumer.stop()
    assert posts_stored(stream_runtime) == 1
    assert events(stream_runtime, "post.ingested") == 1
    assert dead_letters(stream_runtime) == []
    # The message stayed this consumer's all along: never delivered a second time.
    assert counter("tanggap_stream_redeliveries_total") == redelivered_before


def test_a_stream_made_by_hand_without_the_subjects_is_refused_at_start(nats_url: str) -> None:
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        nats_url=nats_url,
        stream_name=f"HAND_{tag}",
        stream_subjects=f"t{tag}.posts",
        stream_dead_letter_subject=f"t{tag}.dead",
    )

    async def start() -> None:
        client = await nats.connect(nats_url)
        js = client.jetstream()
        await js.add_stream(name=f"HAND_{tag}", subjects=[f"t{tag}.other"])
        try:
            await ensure_stream(js, settings)
        finally:
            await client.close()

    with pytest.raises(StreamSetupError, match=rf"exists without the subject 't{tag}.posts'"):
        asyncio.run(start())


def test_the_dead_letter_subject_must_lie_outside_the_stream() -> None:
    refused = "TANGGAP_STREAM_DEAD_LETTER_SUBJECT must lie outside"
    with pytest.raises(ValidationError, match=refused):
        Settings(stream_subjects="posts.>", stream_dead_letter_subject="posts.dead")
