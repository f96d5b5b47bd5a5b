"""The cascade, applied: a removal covers the near-copies of the removed content that a reviewer
chooses, each with its own case and decision, each takedown through the outbox."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from tanggap.actions.models import Action
from tanggap.auth.schemas import Caller
from tanggap.cases import cascade, decisions
from tanggap.cases import service as cases
from tanggap.cases.models import LinkState
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Policy
from tanggap.review.effects import take_effect
from tanggap.reviewers import service as reviewers


def apply_to_near_duplicates(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    link_ids: list[uuid.UUID] | None,
    policy: Policy,
    notifier: Notifier,
) -> tuple[list[cascade.Applied], list[Action]]:
    """Let the removal of a case cover its near-copies (all attached ones, or those named):
    each gets its own case and decision, and its takedown goes through the outbox."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    cases.get(session=session, case_id=case_id, skills=skills, policy=policy)
    source = cases.lock(session=session, case_id=case_id)
    decision, links = cascade.targets(session=session, case=source, link_ids=link_ids)
    actor = caller.audit_actor
    results: list[cascade.Applied] = []
    queued: list[Action] = []
    for link in links:
        target, why = cascade.open_target(
            session=session, link=link, source=source, decision=decision, actor=actor
        )
        if target is None:
            cascade.settle(session, actor, source, link, LinkState.SKIPPED)
            results.append(cascade.Applied(link, None, None, why))
            continue
        copy = decisions.record(
            session=session,
            case=target,
            ruling=decisions.ruling_of(decision),
            actor=actor,
            decided_by_id=caller.id,
            cascade_from=str(source.id),
        )
        applied = take_effect(session, actor, target, copy, notifier, policy, cascade_copies=False)
        link.applied_decision_id = copy.id
        cascade.settle(session, actor, source, link, LinkState.APPLIED)
        results.append(cascade.Applied(link, target, copy))
        queued.extend(applied.actions)
    session.flush()
    return results, queued
