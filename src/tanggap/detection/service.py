"""Detection's stored results: text fingerprints, near-copies, signals."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session, aliased

from tanggap.db.base import insert_rows, table_of, utcnow
from tanggap.detection.models import FingerprintBand, PostFingerprint, Signal
from tanggap.detectors.minhash import PERMUTATIONS, Signature, jaccard, signature
from tanggap.detectors.normalise import normalise
from tanggap.posts.models import Post

MAX_CANDIDATES = 500
ESTIMATE_SLACK = 0.2


def fingerprint(
    *, session: Session, post: Post, normalised: str | None = None, created: bool = False
) -> Signature | None:
    """Store (or replace) the MinHash fingerprint of the post's text and its LSH bands; return
    it. A new post has nothing to replace."""
    if not created:
        session.execute(delete(FingerprintBand).where(FingerprintBand.post_id == post.id))
        session.execute(delete(PostFingerprint).where(PostFingerprint.post_id == post.id))
    found = signature(normalise(post.text) if normalised is None else normalised)
    if found is None:
        return None
    store_fingerprints(session=session, found=[(post.id, found)])
    return found


def store_fingerprints(*, session: Session, found: Sequence[tuple[int, Signature]]) -> None:
    """Store the fingerprints and LSH bands of new posts (post id, signature): two statements
    for all of them (``COPY`` on PostgreSQL, whose driver would send one statement a row)."""
    if not found:
        return
    insert_rows(
        session,
        PostFingerprint,
        [{"post_id": post_id, "minhash": signature.hex()} for post_id, signature in found],
    )
    insert_rows(
        session,
        FingerprintBand,
        [
            {"post_id": post_id, "band": band, "key": key}
            for post_id, signature in found
            for band, key in enumerate(signature.bands())
        ],
    )


def _candidates(post_id: int, among: Select[Any] | None) -> Select[Any]:
    """The posts sharing at least one LSH band with the post, most shared bands first."""
    mine = (
        select(FingerprintBand.band, FingerprintBand.key)
        .where(FingerprintBand.post_id == post_id)
        .subquery()
    )
    theirs = aliased(FingerprintBand)
    query = (
        select(theirs.post_id)
        .join(mine, (theirs.band == mine.c.band) & (theirs.key == mine.c.key))
        .where(theirs.post_id != post_id)
    )
    if among is not None:
        query = query.where(theirs.post_id.in_(among))
    return (
        query.group_by(theirs.post_id)
        .order_by(func.count().desc(), theirs.post_id)
        .limit(MAX_CANDIDATES)
    )


def confirm(
    *, text: str, found: Signature, rows: Sequence[tuple[int, str, str]], bound: float
) -> list[tuple[int, float]]:
    """Keep the candidates (id, stored signature, text) whose exact Jaccard similarity to the
    normalised ``text`` reaches ``bound``; the signatures' estimate first drops the hopeless
    ones (64 slots estimate within ±0.06 at 0.6, so ``ESTIMATE_SLACK`` loses nothing real)."""
    found_slots = np.frombuffer(bytes.fromhex(found.hex()), dtype=">u4")
    kept = []
    for post_id, minhash, other in rows:
        slots = np.frombuffer(bytes.fromhex(minhash), dtype=">u4")
        if float(np.count_nonzero(slots == found_slots)) / PERMUTATIONS < bound - ESTIMATE_SLACK:
            continue
        similarity = jaccard(text, normalise(other))
        if similarity >= bound:
            kept.append((post_id, round(similarity, 3)))
    return kept


def near_copies(
    *,
    session: Session,
    post: Post,
    bound: float,
    among: Select[Any] | None = None,
    normalised: str | None = None,
) -> list[tuple[Post, float]]:
    """Return the stored posts whose text is a near-copy of ``post``'s, closest first.

    Candidates share an LSH band with the post (those sharing the most bands first, at most
    MAX_CANDIDATES); each is then confirmed by the exact Jaccard similarity of the normalised
    texts, so the answer never rests on the estimate alone.
    """
    own = session.get(PostFingerprint, post.id)
    if own is None:  # no text to compare
        return []
    candidate_ids = list(session.execute(_candidates(post.id, among)).scalars())
    if not candidate_ids:
        return []
    rows = session.execute(
        select(PostFingerprint.post_id, PostFingerprint.minhash, Post.text)
        .join(Post, Post.id == PostFingerprint.post_id)
        .where(PostFingerprint.post_id.in_(candidate_ids))
    ).all()
    text = normalise(post.text) if normalised is None else normalised
    kept = dict(confirm(text=text, found=Signature.from_hex(own.minhash), rows=rows, bound=bound))
    if not kept:
        return []
    found = session.execute(select(Post).where(Post.id.in_(kept))).scalars()
    return sorted(((p, kept[p.id]) for p in found), key=lambda pair: (-pair[1], pair[0].id))


def record_signal(
    *, session: Session, post: Post, kind: str, source: str, score: float, detail: dict[str, Any]
) -> Signal:
    """Store one signal on a post."""
    signal = Signal(post_id=post.id, kind=kind, source=source, score=score, detail=detail)
    session.add(signal)  # flushed with the rest of the transaction
    return signal


@dataclass(frozen=True)
class NewSignal:
    """A signal found on a post before the post had its id."""

    kind: str
    source: str
    score: float
    detail: dict[str, Any]


def record_signals(*, session: Session, found: Sequence[tuple[int, NewSignal]]) -> None:
    """Store signals on posts (post id, signal) in one statement."""
    if not found:
        return
    now = utcnow()
    session.execute(
        insert(table_of(Signal)),
        [
            {
                "post_id": post_id,
                "kind": signal.kind,
                "source": signal.source,
                "score": signal.score,
                "detail": signal.detail,
                "created_at": now,
            }
            for post_id, signal in found
        ],
    )


def signals_of(*, session: Session, post_id: int) -> list[Signal]:
    """Return a post's signals, strongest first."""
    return list(
        session.execute(
            select(Signal).where(Signal.post_id == post_id).order_by(Signal.score.desc(), Signal.id)
        ).scalars()
    )


def strongest(*, session: Session, post_ids: Collection[int]) -> dict[int, float]:
    """Return the strongest signal score on each of ``post_ids`` (0 for a post without any)."""
    found = dict.fromkeys(post_ids, 0.0)
    if found:
        for post_id, score in session.execute(
            select(Signal.post_id, func.max(Signal.score))
            .where(Signal.post_id.in_(found))
            .group_by(Signal.post_id)
        ):
            found[post_id] = float(score or 0.0)
    return found


def has_signal(*, session: Session, post_id: int, source: str) -> bool:
    """Tell whether the post already carries a signal from ``source``."""
    return (
        session.execute(
            select(Signal.id)
            .where(Signal.post_id == post_id)
            .where(Signal.source == source)
            .limit(1)
        ).first()
        is not None
    )
