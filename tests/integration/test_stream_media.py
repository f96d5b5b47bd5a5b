"""Images and channels' metadata from a real NATS JetStream stream, on both databases: files
inline or in an object store are hashed (PDQ included) before the batch's transaction, matched
against the banks in it, and refused files dead-lettered naming the field; channel metadata is
stored in the same transaction, once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import uuid
from collections.abc import Callable

import nats
import pytest
from PIL import Image
from sqlalchemy import func, select

from tanggap.actions.models import Action
from tanggap.banks import service as banks
from tanggap.banks.schemas import BankIn, EntryIn
from tanggap.cases.models import Case
from tanggap.channels.models import Channel
from tanggap.detection.models import Signal
from tanggap.detectors.hashing import dihedral, pdq_of
from tanggap.posts.models import Post, PostMedia
from tanggap.runtime import Runtime
from tanggap.stream.media import read_object
from tanggap.stream.messages import ObjectRef
from tanggap.stream.setup import NATS_ERRORS
from tests.factories import post_body
from tests.stream_support import (
    Consumer,
    counter,
    dead_letters,
    events,
    noise,
    posts_stored,
    send,
    stream_drained,
)
from tests.workers import wait_until

DEAD = "tanggap_stream_dead_letters_total"


def inline(data: bytes) -> dict[str, str]:
    return {"data": base64.b64encode(data).decode()}


def auto_remove_bank(runtime: Runtime, image: bytes) -> None:
    """A bank that takes down at once what matches ``image`` (its eight PDQ variants)."""
    variants, _ = dihedral(image)
    with runtime.factory() as session, session.begin():
        bank = banks.create(
            session=session,
            data=BankIn(name="stream-bank", category="terrorism", policy="auto_remove"),
            policy=runtime.policy,
            actor="test",
        )
        entries = [EntryIn(kind="pdq", value=v) for v in dict.fromkeys(variants)]
        banks.add_entries(session=session, bank=bank, entries=entries, actor="test")


def put_objects(runtime: Runtime, bucket: str, objects: dict[str, bytes]) -> None:
    """Create the object store ``bucket`` and put the files in it, as a publisher would."""

    async def put() -> None:
        client = await nats.connect(runtime.settings.nats_url)
        store = await client.jetstream().create_object_store(bucket)
        for name, data in objects.items():
            await store.put(name, data)
        await client.close()

    asyncio.run(put())


def media_rows(runtime: Runtime) -> dict[int, list[tuple[str | None, int | None, bool]]]:
    """The stored media by message id: (pdq, quality, still pending) in position order."""
    query = (
        select(Post.message_id, PostMedia.pdq, PostMedia.pdq_quality, PostMedia.pdq_pending)
        .join(Post, Post.id == PostMedia.post_id)
        .order_by(Post.message_id, PostMedia.position)
    )
    rows: dict[int, list[tuple[str | None, int | None, bool]]] = {}
    with runtime.factory() as session:
        for message_id, pdq, quality, pending in session.execute(query):
            rows.setdefault(message_id, []).append((pdq, quality, bool(pending)))
    return rows


def test_images_are_hashed_before_the_ack_and_matched_in_the_ingest_transaction(
    stream_runtime: Runtime, start_consumer: Callable[[], Consumer]
) -> None:
    banned, other = noise(1, 24), noise(2, 24)
    flat = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(flat, format="PNG")
    auto_remove_bank(stream_runtime, banned)
    send(
        stream_runtime,
        post_body(message_id=1, text="", media=[inline(banned)]),
        post_body(message_id=2, text="foto", media=[inline(other), inline(flat.getvalue())]),
    )
    consumer = start_consumer()
    assert wait_until(lambda: stream_drained(stream_runtime))  # acknowledged: committed
    consumer.stop()

    pdq, quality = pdq_of(other)
    assert media_rows(stream_runtime) == {
        1: [(pdq_of(banned)[0], 100, False)],
        # Below PDQ's quality floor no hash is kept (it would match every flat image).
        2: [(pdq, quality, False), (None, 0, False)],
    }
    assert stream_runtime.media.waiting_bytes == 0  # nothing left for the background hasher
    with stream_runtime.factory() as session:
        [post_id] = session.execute(select(Post.id).where(Post.message_id == 1)).scalars()
        signals = session.execute(select(Signal.kind, Signal.source)).all()
        case = session.execute(select(Case.state, Case.automated)).one()
        actions = session.execute(select(Action.post_id)).scalars().all()
    assert signals == [("hash_match", "bank:stream-bank")]
    assert (case.state, case.automated) == ("decided", True)
    assert actions == [post_id]  # taken down in the transaction that stored the post


def test_files_in_an_object_store_are_read_hashed_and_refused_naming_the_field(
    stream_runtime: Runtime, start_consumer: Callable[[], Consumer]
) -> None:
    bucket = f"media_{uuid.uuid4().hex[:10]}"
    large, broken = noise(3, 48), noise(4, 48)  # larger than a message may be (4 KiB here)
    assert len(large) > stream_runtime.settings.stream_max_message_bytes
    put_objects(
        stream_runtime,
        bucket,
        {"large.png": large, "huge.png": noise(5, 80), "broken.png": broken[: len(broken) // 2]},
    )
    small = noise(6, 24)

    def named(name: str, in_bucket: str = bucket) -> dict[str, object]:
        return {"object": {"bucket": in_bucket, "name": name}, "url": f"/m/{name}"}

    reasons = ("too_large", "not_found", "invalid_input")
    before = {reason: counter(DEAD, reason=reason) for reason in reasons}
    send(
        stream_runtime,
        post_body(message_id=1, text="", media=[named("large.png")]),
        post_body(message_id=2, text="", media=[inline(small), named("huge.png")]),
        post_body(message_id=3, text="", media=[named("broken.png")]),
        post_body(message_id=4, text="", media=[named("gone.png")]),
        post_body(message_id=5, text="", media=[named("large.png", "no_such_bucket")]),
        post_body(message_id=6, text="", media=[{**inline(small), "sha256": "ab" * 32}]),
        post_body(message_id=7, text="juga", media=[{"md5": "0" * 32}, inline(small)]),
    )
    consumer = start_consumer()
    assert wait_until(lambda: stream_drained(stream_runtime))
    consumer.stop()

    letters = dead_letters(stream_runtime)
    assert [(d["error"], d["field"]) for d in letters] == [
        ("too_large", "media.1.object"),
        ("invalid_input", "media.0.object"),
        ("not_found", "media.0.object.name"),
        ("not_found", "media.0.object.bucket"),
        ("invalid_input", "media.0.sha256"),
    ]
    assert "16384" in str(letters[0]["reason"]) and "corrupt" in str(letters[1]["reason"])
    after = {reason: counter(DEAD, reason=reason) - before[reason] for reason in before}
    assert after == {"too_large": 1, "not_found": 2, "invalid_input": 2}
    # The rest of the batch is stored, hashed; nothing of a refused post is.
    assert media_rows(stream_runtime) == {
        1: [(pdq_of(large)[0], 100, False)],
        7: [(None, None, False), (pdq_of(small)[0], 100, False)],
    }
    with stream_runtime.factory() as session:
        sha256, url = session.execute(
            select(PostMedia.sha256, PostMedia.url)
            .join(Post, Post.id == PostMedia.post_id)
            .where(Post.message_id == 1)
        ).one()
    assert (sha256, url) == (hashlib.sha256(large).hexdigest(), "/m/large.png")


def test_an_object_read_with_nats_away_is_retried_not_refused(nats_url: str) -> None:
    async def read_after_close() -> None:
        client = await nats.connect(nats_url)
        await client.close()
        ref = ObjectRef(bucket="any", name="file.png")
        with pytest.raises(NATS_ERRORS):  # the batch is tried again, nothing is dead-lettered
            await read_object(client.jetstream(), ref, field="media.0.object", max_bytes=1024)

    asyncio.run(read_after_close())


def test_channel_metadata_travels_on_the_stream_once(
    stream_runtime: Runtime, start_consumer: Callable[[], Consumer]
) -> None:
    channel = {"handle": "@KabarKota", "title": "Kabar Kota", "country": "ID", "subscribers": 12}
    as_channel = {"Tanggap-Type": "channel"}
    invalid_before = counter(DEAD, reason="invalid_input")
    send(stream_runtime, channel, channel, {**channel, "country": "XX1"}, headers=as_channel)
    send(stream_runtime, post_body(channel="kabarkota", message_id=1, text="halo"))
    send(stream_runtime, channel, headers={"Tanggap-Type": "story"})
    consumer = start_consumer()
    assert wait_until(lambda: stream_drained(stream_runtime))
    send(stream_runtime, {**channel, "subscribers": 13}, headers=as_channel)  # an edit
    assert wait_until(lambda: events(stream_runtime, "channel.updated") == 2)
    assert wait_until(lambda: stream_drained(stream_runtime))
    consumer.stop()

    letters = dead_letters(stream_runtime)
    assert [(d["error"], d["field"]) for d in letters] == [
        ("invalid_input", "country"),
        ("invalid_input", "Tanggap-Type"),
    ]
    assert counter(DEAD, reason="invalid_input") - invalid_before == 2
    with stream_runtime.factory() as session:
        stored = session.execute(
            select(Channel.handle, Channel.title, Channel.country, Channel.subscribers)
        ).all()
        in_channels = session.execute(select(func.count()).select_from(Channel)).scalar_one()
    assert stored == [("kabarkota", "Kabar Kota", "ID", 13)] and in_channels == 1
    assert events(stream_runtime, "channel.created") == 1  # the resend changed nothing
    assert posts_stored(stream_runtime) == 1
