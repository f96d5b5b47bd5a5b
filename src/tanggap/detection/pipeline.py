"""The detection pipeline run on every ingested post, inside the ingest transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.detection import service as detection
from tanggap.detection.engine.language import detect_language
from tanggap.platform.models import Restriction
from tanggap.policy.schemas import Policy
from tanggap.policy.service import compute_deadline
from tanggap.posts.models import Post
from tanggap.posts.service import post_url
from tanggap.reports import service as reports

ACTOR = "system:detection"


class DetectionPipeline:
    """Inspects new and edited posts: language, text fingerprint, re-uploads of removed content."""

    def __init__(self, policy: Policy):
        self.policy = policy

    def inspect(self, *, session: Session, post: Post, created: bool) -> None:
        """Detect the language, fingerprint the text, and flag a copy of removed content."""
        post.language = detect_language(post.text)
        if detection.fingerprint(session=session, post=post) is not None:
            self._removed_copies(session, post)

    def _removed_copies(self, session: Session, post: Post) -> None:
        removed = (
            select(Restriction.post_id)
            .where(Restriction.kind == "removed")
            .where(Restriction.lifted_at.is_(None))
            .where(Restriction.post_id.is_not(None))
        )
        bound = self.policy.detection.near_duplicate_similarity
        copies = detection.near_copies(session=session, post=post, bound=bound, among=removed)
        if not copies:
            return
        original, similarity = copies[0]
        case = session.execute(select(Case).where(Case.post_id == original.id)).scalar_one_or_none()
        decision = reports.latest_decision(session=session, case_id=case.id) if case else None
        if case is None or decision is None:
            return
        handle, message_id = _link_of(session, original)
        detection.record_signal(
            session=session,
            post=post,
            kind="near_duplicate",
            source="removed_content",
            score=similarity,
            detail={
                "of": post_url(handle, message_id),
                "case_id": str(case.id),
                "decision_id": str(decision.id),
                "category": decision.category,
            },
        )
        if session.execute(select(Case.id).where(Case.post_id == post.id)).first() is None:
            # A re-upload of removed content waits for a reviewer (an automated case); hash
            # banks with an auto_remove policy are the route to removing on sight.
            cases.open_or_join(
                session=session,
                post=post,
                category=decision.category,
                deadline=compute_deadline(
                    policy=self.policy,
                    received_at=utcnow(),
                    source="automated",
                    order_type="notice",
                    category_id=decision.category,
                ),
                policy=self.policy,
                actor=ACTOR,
                automated=True,
            )


def _link_of(session: Session, post: Post) -> tuple[str, int]:
    handle = session.execute(
        select(Channel.handle).where(Channel.id == post.channel_id)
    ).scalar_one()
    return handle, post.message_id
