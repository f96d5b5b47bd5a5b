"""The action outbox's rows: the actions a decision causes, queued in its transaction; where
their delivery stands. Delivery itself is ``actions.delivery`` on the outbox engine."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions.models import Action, ActionKind
from tanggap.audit import service as audit
from tanggap.cases.models import Decision
from tanggap.db.base import utcnow
from tanggap.db.wake import ACTIONS, wake
from tanggap.errors import Conflict, NotFound
from tanggap.outbox import DeliveryState
from tanggap.posts.models import Post

KINDS_OF_OUTCOME: dict[str, tuple[ActionKind, ...]] = {
    "remove": ("remove_post",),
    "geo_restrict": ("geo_restrict_post",),
    "ban_channel": ("ban_channel",),
    # Banning a post's author from the group takes the post down too.
    "ban_member": ("remove_post", "ban_member"),
}
CHANNEL_KINDS = frozenset({"ban_channel", "restore_channel"})
# Kinds aimed at the post's author (a member of a group), by the id the connector sealed.
MEMBER_KINDS: frozenset[ActionKind] = frozenset({"ban_member", "unban_member"})


def create_for_decision(
    *, session: Session, decision: Decision, post: Post, actor: str
) -> list[Action]:
    """Queue the actions a decision causes, in the decision's transaction."""
    return [
        _queue(
            session, decision, kind, post, actor,
            countries=list(decision.countries),
            ground=decision.ground,
            policy_ref=decision.policy_ref,
            audit_data={"countries": list(decision.countries)},
        )
        for kind in KINDS_OF_OUTCOME.get(decision.outcome, ())
    ]  # fmt: skip


def create_restore(
    *,
    session: Session,
    decision: Decision,
    appealed: Decision,
    kind: ActionKind,
    post: Post,
    actor: str,
) -> Action:
    """Queue an action of ``kind`` that undoes ``appealed`` (a reversed appeal)."""
    return _queue(
        session, decision, kind, post, actor,
        countries=[],
        ground=appealed.ground,
        policy_ref=appealed.policy_ref,
        audit_data={"reverses": str(appealed.id)},
    )  # fmt: skip


def restore_kinds(appealed: Decision) -> tuple[ActionKind, ...]:
    """Return the kinds of action that undo ``appealed``: restore the post, lift the channel's
    ban, or restore the post and lift its author's ban from the group."""
    if appealed.outcome == "ban_channel":
        return ("restore_channel",)
    if appealed.outcome == "ban_member":
        return ("restore_post", "unban_member")
    return ("restore_post",)


def _queue(
    session: Session,
    decision: Decision,
    kind: ActionKind,
    post: Post,
    actor: str,
    *,
    countries: list[str],
    ground: str | None,
    policy_ref: str | None,
    audit_data: dict[str, object],
) -> Action:
    """Put one action in the outbox (channel-wide kinds carry no post), audited."""
    action = Action(
        decision_id=decision.id,
        case_id=decision.case_id,
        kind=kind,
        channel_id=post.channel_id,
        post_id=None if kind in CHANNEL_KINDS else post.id,
        countries=countries,
        ground=ground,
        policy_ref=policy_ref,
        state=DeliveryState.PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(action)
    session.flush()
    wake(session, ACTIONS)
    audit.record(
        session=session,
        actor=actor,
        action="action.created",
        subject_type="action",
        subject_id=action.id,
        data={"kind": kind, "decision_id": str(decision.id), **audit_data},
    )
    return action


def actions_of_decision(*, session: Session, decision_id: uuid.UUID) -> list[Action]:
    """Return the actions a decision caused."""
    return list(
        session.execute(
            select(Action).where(Action.decision_id == decision_id).order_by(Action.created_at)
        ).scalars()
    )


def actions_of_case(*, session: Session, case_id: uuid.UUID) -> list[Action]:
    """Return the actions every decision on a case caused, oldest first."""
    return list(
        session.execute(
            select(Action).where(Action.case_id == case_id).order_by(Action.created_at, Action.id)
        ).scalars()
    )


def all_delivered(*, session: Session, decision_id: uuid.UUID) -> bool:
    """Tell whether every action of a decision has reached the platform (true for none)."""
    undelivered = session.execute(
        select(Action.id)
        .where(Action.decision_id == decision_id)
        .where(Action.state != DeliveryState.DELIVERED)
        .limit(1)
    ).first()
    return undelivered is None


def list_actions(*, session: Session, state: str | None, limit: int) -> list[Action]:
    """Return actions, newest first, in ``state`` when given."""
    query = select(Action)
    if state is not None:
        query = query.where(Action.state == state)
    return list(session.execute(query.order_by(Action.created_at.desc()).limit(limit)).scalars())


def requeue(*, session: Session, action_id: uuid.UUID, actor: str) -> Action:
    """Put a failed action back in the outbox for a fresh series of attempts."""
    action = session.execute(
        select(Action)
        .where(Action.id == action_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if action is None:
        raise NotFound(f"no action {action_id}", field="action_id")
    if action.state != DeliveryState.FAILED:
        raise Conflict(f"action {action_id} is {action.state}; only failed actions are requeued")
    action.state = DeliveryState.PENDING
    action.attempts = 0
    action.next_attempt_at = utcnow()
    wake(session, ACTIONS)
    audit.record(
        session=session,
        actor=actor,
        action="action.requeued",
        subject_type="action",
        subject_id=action.id,
        data={"last_error": action.last_error},
    )
    return action


def cancel_pending(*, session: Session, decision_id: uuid.UUID, actor: str) -> list[Action]:
    """Withdraw the actions of a reversed decision that have not reached the platform yet, so
    that a retry never applies what the appeal undid; an attempt in flight finds its row no
    longer pending and its result is dropped (the outbox's fence). Return those withdrawn."""
    withdrawn = list(
        session.execute(
            select(Action)
            .where(Action.decision_id == decision_id, Action.state == DeliveryState.PENDING)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    )
    for action in withdrawn:
        action.state = DeliveryState.CANCELLED
        audit.record(
            session=session,
            actor=actor,
            action="action.cancelled",
            subject_type="action",
            subject_id=action.id,
            data={"kind": action.kind, "attempts": action.attempts, "reason": "reversed"},
        )
    return withdrawn
