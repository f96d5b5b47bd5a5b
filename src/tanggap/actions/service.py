"""The action outbox: create actions with their decision, deliver them after commit, retry."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tanggap.actions.adapters import ActionKind, PlatformAction, PlatformAdapter
from tanggap.actions.models import Action
from tanggap.audit import service as audit
from tanggap.cases.models import Decision
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, NotFound
from tanggap.metrics import ACTION_FAILURES, ACTIONS_DELIVERED
from tanggap.notify.service import Notifier
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts.models import Post
from tanggap.reports import service as reports

log = structlog.get_logger(__name__)

KIND_OF_OUTCOME: dict[str, ActionKind] = {
    "remove": "remove_post",
    "geo_restrict": "geo_restrict_post",
    "ban_channel": "ban_channel",
}
CHANNEL_KINDS = frozenset({"ban_channel", "restore_channel"})
MAX_BACKOFF = timedelta(hours=1)


def create_for_decision(
    *, session: Session, decision: Decision, post: Post, actor: str
) -> list[Action]:
    """Queue the actions a decision causes, in the decision's transaction."""
    kind = KIND_OF_OUTCOME.get(decision.outcome)
    if kind is None:
        return []
    return [
        _queue(
            session, decision, kind, post, actor,
            countries=list(decision.countries),
            ground=decision.ground,
            policy_ref=decision.policy_ref,
            audit_data={"countries": list(decision.countries)},
        )
    ]  # fmt: skip


def create_restore(
    *, session: Session, decision: Decision, appealed: Decision, post: Post, actor: str
) -> list[Action]:
    """Queue the action that undoes ``appealed`` (a reversed appeal): restore the post, or lift
    the channel's ban."""
    kind: ActionKind = "restore_channel" if appealed.outcome == "ban_channel" else "restore_post"
    return [
        _queue(
            session, decision, kind, post, actor,
            countries=[],
            ground=appealed.ground,
            policy_ref=appealed.policy_ref,
            audit_data={"reverses": str(appealed.id)},
        )
    ]  # fmt: skip


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
        state="pending",
        next_attempt_at=utcnow(),
    )
    session.add(action)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="action.created",
        subject_type="action",
        subject_id=action.id,
        data={"kind": kind, "decision_id": str(decision.id), **audit_data},
    )
    return action


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Return how long to wait before attempt ``attempts + 1``: doubling, capped at an hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_due(
    *,
    factory: sessionmaker[Session],
    adapter: PlatformAdapter,
    policy: Policy,
    notifier: Notifier,
    retry_seconds: float,
    max_attempts: int,
    action_ids: Iterable[uuid.UUID] | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> int:
    """Deliver pending actions that are due (or the ones named), each in its own transaction."""
    with factory() as session:
        query = select(Action.id).where(Action.state == "pending")
        if action_ids is not None:
            query = query.where(Action.id.in_(list(action_ids)))
        else:
            query = query.where(Action.next_attempt_at <= (now or utcnow()))
        due = list(session.execute(query.order_by(Action.created_at).limit(limit)).scalars())
    delivered = 0
    for action_id in due:
        with factory() as session, session.begin():
            outcome = _deliver_one(
                session, action_id, adapter, policy, notifier, retry_seconds, max_attempts
            )
        if outcome is not None:  # committed: count it
            kind, applied = outcome
            (ACTIONS_DELIVERED if applied else ACTION_FAILURES).labels(kind).inc()
            delivered += applied
    return delivered


def _deliver_one(
    session: Session,
    action_id: uuid.UUID,
    adapter: PlatformAdapter,
    policy: Policy,
    notifier: Notifier,
    retry_seconds: float,
    max_attempts: int,
) -> tuple[str, bool] | None:
    """Attempt one action; return its kind and whether it was applied, or None if skipped."""
    # SKIP LOCKED: another worker already delivering this action is left alone.
    action = session.execute(
        select(Action)
        .where(Action.id == action_id, Action.state == "pending")
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if action is None:
        return None
    command = _command(session, action, policy)
    action.attempts += 1
    try:
        with session.begin_nested():
            adapter.apply(command, session=session)
    except Exception as exc:
        action.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if action.attempts >= max_attempts:
            action.state = "failed"
            event = "action.failed"
        else:
            action.next_attempt_at = utcnow() + backoff(action.attempts, retry_seconds)
            event = "action.retry_scheduled"
        log.warning(
            event, action_id=str(action.id), attempts=action.attempts, error=action.last_error
        )
        audit.record(
            session=session,
            actor=audit.SYSTEM_ACTOR,
            action=event,
            subject_type="action",
            subject_id=action.id,
            data={"attempts": action.attempts, "error": action.last_error},
        )
        return action.kind, False
    action.state = "delivered"
    action.delivered_at = utcnow()
    action.last_error = None
    audit.record(
        session=session,
        actor=audit.SYSTEM_ACTOR,
        action="action.delivered",
        subject_type="action",
        subject_id=action.id,
        data={"attempts": action.attempts},
    )
    session.flush()
    pending_siblings = session.execute(
        select(Action.id)
        .where(Action.decision_id == action.decision_id)
        .where(Action.state != "delivered")
        .limit(1)
    ).first()
    if pending_siblings is None:
        reports.settle_actioned(
            session=session,
            case_id=action.case_id,
            decision_id=action.decision_id,
            actor=audit.SYSTEM_ACTOR,
            notifier=notifier,
        )
    return action.kind, True


def _command(session: Session, action: Action, policy: Policy) -> PlatformAction:
    handle = session.execute(
        select(Channel.handle).where(Channel.id == action.channel_id)
    ).scalar_one()
    message_id = None
    if action.post_id is not None:
        message_id = session.execute(
            select(Post.message_id).where(Post.id == action.post_id)
        ).scalar_one()
    category_id = session.execute(
        select(Decision.category).where(Decision.id == action.decision_id)
    ).scalar_one()
    category = find_category(policy, category_id)
    return PlatformAction(
        idempotency_key=str(action.id),
        kind=action.kind,  # type: ignore[arg-type]
        channel=handle,
        message_id=message_id,
        countries=tuple(action.countries),
        ground=action.ground,
        policy_ref=action.policy_ref,
        policy_name=category.display_name("en") if category else category_id,
    )


def actions_of_decision(*, session: Session, decision_id: uuid.UUID) -> list[Action]:
    """Return the actions a decision caused."""
    return list(
        session.execute(
            select(Action).where(Action.decision_id == decision_id).order_by(Action.created_at)
        ).scalars()
    )


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
    if action.state != "failed":
        raise Conflict(f"action {action_id} is {action.state}; only failed actions are requeued")
    action.state = "pending"
    action.attempts = 0
    action.next_attempt_at = utcnow()
    audit.record(
        session=session,
        actor=actor,
        action="action.requeued",
        subject_type="action",
        subject_id=action.id,
        data={"last_error": action.last_error},
    )
    return action
