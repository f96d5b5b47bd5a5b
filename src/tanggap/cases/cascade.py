"""The cascade: a removal reaches the near-copies of the removed content across channels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.cases import decisions, states
from tanggap.cases import service as cases
from tanggap.cases.models import Case, Decision, LinkState, NearDuplicate
from tanggap.cases.states import CaseState
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.detection import service as detection
from tanggap.errors import Conflict, InvalidInput
from tanggap.policy.schemas import Policy
from tanggap.posts.models import Post

CASCADING_OUTCOMES = frozenset({"remove"})


def attach(*, session: Session, case: Case, policy: Policy) -> list[NearDuplicate]:
    """Attach to ``case`` the stored posts carrying (nearly) the same text as its post."""
    post = session.get(Post, case.post_id)
    assert post is not None
    known = set(
        session.execute(
            select(NearDuplicate.post_id).where(NearDuplicate.case_id == case.id)
        ).scalars()
    )
    found = []
    for other, similarity in detection.near_copies(
        session=session, post=post, bound=policy.detection.near_duplicate_similarity
    ):
        if other.id not in known:
            link = NearDuplicate(case_id=case.id, post_id=other.id, similarity=similarity)
            session.add(link)
            found.append(link)
    session.flush()
    return found


def near_duplicates(
    *, session: Session, case_id: uuid.UUID
) -> list[tuple[NearDuplicate, Post, str]]:
    """Return the case's near-duplicates with their posts and channel handles, closest first."""
    return [
        (link, post, handle)
        for link, post, handle in session.execute(
            select(NearDuplicate, Post, Channel.handle)
            .join(Post, Post.id == NearDuplicate.post_id)
            .join(Channel, Channel.id == Post.channel_id)
            .where(NearDuplicate.case_id == case_id)
            .order_by(NearDuplicate.similarity.desc(), Post.id)
        ).all()
    ]


@dataclass
class Applied:
    """What the cascade did with one near-duplicate."""

    link: NearDuplicate
    case: Case | None
    decision: Decision | None
    reason: str | None = None


def targets(
    *, session: Session, case: Case, link_ids: list[uuid.UUID] | None
) -> tuple[Decision, list[NearDuplicate]]:
    """Return the removal standing on ``case`` and the attached links it should cover."""
    decision = decisions.in_force(session=session, case_id=case.id)
    if (
        case.state != CaseState.DECIDED
        or decision is None
        or decision.outcome not in CASCADING_OUTCOMES
    ):
        raise Conflict(f"case {case.id} has no removal to apply; decide it first", field="case_id")
    links = [link for link, _, _ in near_duplicates(session=session, case_id=case.id)]
    if link_ids is not None:
        unknown = set(link_ids) - {link.id for link in links}
        if unknown:
            raise InvalidInput(
                f"not near-duplicates of this case: {', '.join(sorted(map(str, unknown)))}",
                field="link_ids",
            )
        links = [link for link in links if link.id in set(link_ids)]
    return decision, [link for link in links if link.state == LinkState.ATTACHED]


def open_target(
    *, session: Session, link: NearDuplicate, source: Case, decision: Decision, actor: str
) -> tuple[Case | None, str | None]:
    """Return the (locked) case of a near-duplicate ready for the decision, or why it is not."""
    post = session.get(Post, link.post_id)
    assert post is not None
    case = cases.lock_of_post(session=session, post_id=post.id)
    now = utcnow()
    if case is None:
        case = cases.new_case(
            post=post, category=decision.category, deadline=now, report_count=0, automated=True
        )
        case.triage_due = False  # decided at once: nothing to triage
        session.add(case)
        session.flush()
        cases.audit_case(session, actor, "case.opened", case, cascade_from=str(source.id))
        return case, None
    if case.state not in states.OPEN_STATES:
        return None, f"already {case.state}"
    held = case.claimed_by_id and case.lease_expires_at and case.lease_expires_at > now
    if held:
        return None, "held by another reviewer"
    return case, None


def settle(
    session: Session, actor: str, source: Case, link: NearDuplicate, state: LinkState
) -> None:
    """Mark what the cascade did with one link, audited."""
    link.state = state
    audit.record(
        session=session,
        actor=actor,
        action=f"cascade.{state}",
        subject_type="case",
        subject_id=source.id,
        data={"link_id": str(link.id), "post_id": link.post_id, "similarity": link.similarity},
    )
