"""Detection's stored results: text fingerprints, near-copies, signals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from tanggap.detection.engine.minhash import Signature, jaccard, signature
from tanggap.detection.engine.normalise import normalise
from tanggap.detection.models import FingerprintBand, PostFingerprint, Signal
from tanggap.posts.models import Post

MAX_CANDIDATES = 500


def fingerprint(*, session: Session, post: Post, normalised: str | None = None) -> Signature | None:
    """Store (or replace) the MinHash fingerprint of the post's text; return it."""
    session.execute(delete(FingerprintBand).where(FingerprintBand.post_id == post.id))
    session.execute(delete(PostFingerprint).where(PostFingerprint.post_id == post.id))
    found = signature(normalise(post.text) if normalised is None else normalised)
    if found is None:
        return None
    session.add(PostFingerprint(post_id=post.id, minhash=found.hex()))
    session.add_all(
        FingerprintBand(post_id=post.id, band=band, key=key)
        for band, key in enumerate(found.bands())
    )
    session.flush()
    return found


def near_copies(
    *,
    session: Session,
    post: Post,
    bound: float,
    among: Select[Any] | None = None,
    normalised: str | None = None,
) -> list[tuple[Post, float]]:
    """Return the stored posts whose text is a near-copy of ``post``'s, closest first.

    Candidates share an LSH band with the post; each is then confirmed by the exact Jaccard
    similarity of the normalised texts, so the answer never rests on the estimate alone.
    """
    mine = session.execute(
        select(FingerprintBand.band, FingerprintBand.key).where(FingerprintBand.post_id == post.id)
    ).all()
    if not mine:  # no text to compare
        return []
    theirs = select(FingerprintBand.post_id).where(FingerprintBand.post_id != post.id)
    matches = [(FingerprintBand.band == band) & (FingerprintBand.key == key) for band, key in mine]

    query = theirs.where(or_(*matches)).distinct().limit(MAX_CANDIDATES)
    if among is not None:
        query = query.where(FingerprintBand.post_id.in_(among))
    candidate_ids = list(session.execute(query).scalars())
    if not candidate_ids:
        return []
    text = normalise(post.text) if normalised is None else normalised
    found = []
    for other in session.execute(select(Post).where(Post.id.in_(candidate_ids))).scalars():
        similarity = jaccard(text, normalise(other.text))
        if similarity >= bound:
            found.append((other, round(similarity, 3)))
    return sorted(found, key=lambda pair: (-pair[1], pair[0].id))


def record_signal(
    *, session: Session, post: Post, kind: str, source: str, score: float, detail: dict[str, Any]
) -> Signal:
    """Store one signal on a post."""
    signal = Signal(post_id=post.id, kind=kind, source=source, score=score, detail=detail)
    session.add(signal)
    session.flush()
    return signal


def signals_of(*, session: Session, post_id: int) -> list[Signal]:
    """Return a post's signals, strongest first."""
    return list(
        session.execute(
            select(Signal).where(Signal.post_id == post_id).order_by(Signal.score.desc(), Signal.id)
        ).scalars()
    )


def strongest(*, session: Session, post_id: int) -> float:
    """Return the strongest signal score on a post (0 without any)."""
    value = session.execute(
        select(func.max(Signal.score)).where(Signal.post_id == post_id)
    ).scalar_one_or_none()
    return float(value or 0.0)


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
