"""The files of a stream post, hashed before the batch's transaction: sent inline (base64 in the
message) or named in a JetStream object store. Their bytes stay in this process's memory only
while they are hashed, and are never written to a table or a log: the stored rows carry the
hashes (PDQ included), and the message, still unacknowledged, is the copy a crash falls back on.
"""

from __future__ import annotations

import asyncio
import io

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, DigestMismatchError, ObjectNotFoundError

from tanggap.detectors.hashing import QUALITY_FLOOR, HashError, file_hashes, hash_bytes
from tanggap.posts.schemas import HashedMediaIn, MediaIn, PostIn
from tanggap.stream.messages import ObjectRef, Refusal, StreamPostIn

# Reading one object may take this long; past it the server is taken to be away (the batch is
# tried again).
OBJECT_READ_SECONDS = 30.0


def _hashed(item: MediaIn, raw: bytes, field: str, index: int) -> HashedMediaIn | Refusal:
    """Hash one file fully; a corrupt image or a hash that does not match is refused."""
    try:
        # A PDQ the platform sent wins, as on the HTTP path; the file is still checked to decode.
        hashes = file_hashes(raw) if item.pdq else hash_bytes(raw)
    except HashError as exc:
        return Refusal("invalid_input", field, str(exc))
    for name in ("sha256", "md5"):
        if getattr(item, name) not in (None, getattr(hashes, name)):
            return Refusal(
                "invalid_input", f"media.{index}.{name}", "does not match the file sent with it"
            )
    pdq = item.pdq
    if hashes.pdq is not None and hashes.quality is not None and hashes.quality >= QUALITY_FLOOR:
        pdq = hashes.pdq  # below PDQ's quality floor a hash matches too much: none is kept
    return HashedMediaIn(
        sha256=hashes.sha256, md5=hashes.md5, pdq=pdq, pdq_quality=hashes.quality, url=item.url
    )


def hashed_post(post: StreamPostIn, fetched: dict[int, bytes]) -> PostIn | Refusal:
    """Return the post with every file hashed (MD5, SHA-256, and PDQ with its quality for an
    image) and dropped, or the refusal naming the first file that cannot be (``fetched``: the
    bytes of the object-store files, by position)."""
    media: list[MediaIn] = []
    for index, item in enumerate(post.media):
        if item.object is not None:
            raw: bytes | None = fetched[index]
            field = f"media.{index}.object"
        else:
            raw, field = item.raw(), f"media.{index}.data"
        if raw is None:
            media.append(MediaIn(sha256=item.sha256, md5=item.md5, pdq=item.pdq, url=item.url))
            continue
        hashed = _hashed(item, raw, field, index)
        if isinstance(hashed, Refusal):
            return hashed
        media.append(hashed)
    fields = {name: getattr(post, name) for name in PostIn.model_fields if name != "media"}
    return PostIn.model_construct(post.model_fields_set, **fields, media=media)


async def read_object(
    js: JetStreamContext, ref: ObjectRef, *, field: str, max_bytes: int
) -> bytes | Refusal:
    """Return the bytes of an object-store file, or why it is refused (no such bucket or
    object, a link, over ``max_bytes``, bytes that do not match the object's digest). Any other
    NATS error is raised: the server is away, and the batch is tried again."""
    try:
        store = await js.object_store(ref.bucket)
    except BucketNotFoundError:
        return Refusal("not_found", f"{field}.bucket", f"no object store {ref.bucket!r}")
    missing = Refusal("not_found", f"{field}.name", f"no object {ref.name!r} in {ref.bucket!r}")
    try:
        info = await store.get_info(ref.name)
    except ObjectNotFoundError:
        return missing
    if info.is_link():
        return Refusal("invalid_input", field, "the object is a link: name the object itself")
    if (info.size or 0) > max_bytes:
        return Refusal("too_large", field, f"the object has {info.size} bytes; at most {max_bytes}")
    buffer = io.BytesIO()
    try:
        await asyncio.wait_for(store.get(ref.name, writeinto=buffer), OBJECT_READ_SECONDS)
    except ObjectNotFoundError:  # deleted meanwhile
        return missing
    except DigestMismatchError:
        return Refusal("invalid_input", field, "the object's bytes do not match its digest")
    data = buffer.getvalue()
    if len(data) > max_bytes:  # replaced by a larger one meanwhile
        return Refusal("too_large", field, f"the object has {len(data)} bytes; at most {max_bytes}")
    return data


async def fetch_files(
    js: JetStreamContext, post: StreamPostIn, *, max_bytes: int
) -> dict[int, bytes] | Refusal:
    """Return the bytes of the post's object-store files by position, or the first refusal."""
    fetched: dict[int, bytes] = {}
    for index, item in enumerate(post.media):
        if item.object is None:
            continue
        found = await read_object(
            js, item.object, field=f"media.{index}.object", max_bytes=max_bytes
        )
        if isinstance(found, Refusal):
            return found
        fetched[index] = found
    return fetched
