"""Re-uploads of removed content: the text signatures of the posts the built-in pages show as
removed, kept in memory and rebuilt when a removal is added or lifted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.builtin_pages.models import Restriction
from tanggap.db.rebuilt import Rebuilt
from tanggap.detection import service as detection
from tanggap.detection.models import PostFingerprint
from tanggap.detectors.minhash import Signature, SignatureIndex
from tanggap.posts.models import Post

# Of the removed posts a text may copy, how many (the closest by estimate) are confirmed at once.
CONFIRM_AT_ONCE = 10


class RemovedContent:
    """The text signatures of the posts removed and not restored, in memory, so that checking a
    new post for a re-upload costs one small version query instead of a band search."""

    ACTIVE = (
        Restriction.kind == "removed",
        Restriction.lifted_at.is_(None),
        Restriction.post_id.is_not(None),
    )

    def __init__(self) -> None:
        self._index: Rebuilt[SignatureIndex] = Rebuilt(SignatureIndex([]))

    def _fresh(self, session: Session) -> SignatureIndex:
        def build() -> SignatureIndex:
            rows = session.execute(
                select(PostFingerprint.post_id, PostFingerprint.minhash).where(
                    PostFingerprint.post_id.in_(select(Restriction.post_id).where(*self.ACTIVE))
                )
            ).all()
            return SignatureIndex([(post_id, minhash) for post_id, minhash in rows])

        return self._index.fresh(session, build, Restriction.id, *self.ACTIVE)

    def may_copy(self, *, session: Session, found: Sequence[Signature], bound: float) -> list[bool]:
        """Tell, for each text signature, whether its estimate comes near enough to a removed
        post's that ``copies`` must confirm it (one version query for all of them)."""
        index = self._fresh(session)
        return [bool(index.query(each, bound - detection.ESTIMATE_SLACK)) for each in found]

    def copies(
        self, *, session: Session, post: Post, normalised: str, found: Signature, bound: float
    ) -> list[tuple[int, float]]:
        """Return (post id, exact similarity) of removed posts the text copies, closest first.
        The candidates are confirmed ``CONFIRM_AT_ONCE`` at a time, closest by the signatures'
        estimate first, until some are: a wave of re-uploads of one text costs the same for the
        thousandth copy as for the second, and near-misses ranked first do not hide a copy."""
        near = self._fresh(session).query(found, bound - detection.ESTIMATE_SLACK)
        ranked = sorted(
            ((post_id, sim) for post_id, sim in near if post_id != post.id),
            key=lambda pair: (-pair[1], pair[0]),
        )
        for start in range(0, len(ranked), CONFIRM_AT_ONCE):
            ids = [post_id for post_id, _ in ranked[start : start + CONFIRM_AT_ONCE]]
            rows = session.execute(
                select(PostFingerprint.post_id, PostFingerprint.minhash, Post.text)
                .join(Post, Post.id == PostFingerprint.post_id)
                .where(PostFingerprint.post_id.in_(ids))
            ).all()
            kept = detection.confirm(text=normalised, found=found, rows=rows, bound=bound)
            if kept:
                return sorted(kept, key=lambda pair: (-pair[1], pair[0]))
        return []
