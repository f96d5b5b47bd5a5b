"""Platform actions on the outbox engine: each pending action goes to the platform adapter with
its id as the idempotency key, outside any transaction; failures wait with back-off."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from tanggap.actions.models import Action
from tanggap.actions.platform import PlatformAction, PlatformAdapter
from tanggap.actions.service import MEMBER_KINDS, all_delivered
from tanggap.audit import service as audit
from tanggap.cases.models import Case, Decision
from tanggap.channels import members
from tanggap.channels.models import Channel
from tanggap.metrics import ACTION_FAILURES, ACTIONS_DELIVERED
from tanggap.outbox import DeliveryState, Sent, backoff
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category
from tanggap.posts.models import Post

log = structlog.get_logger(__name__)
BACKOFF_CAP = timedelta(hours=1)
# How long a claim keeps other workers off an action: claimed actions are sent one after the
# other, and one whose turn comes after its lease ran out is left for the next claim; a worker
# that dies mid-batch delays its actions by this much at most.
LEASE = timedelta(minutes=2)

# Told, in the transaction that records it, that every action of a decision reached the
# platform: (session, case id, decision id).
DecisionDelivered = Callable[[Session, uuid.UUID, uuid.UUID], None]


@dataclass
class ActionDelivery:
    """The outbox kind of platform actions (see ``tanggap.outbox.engine``)."""

    adapter: PlatformAdapter
    policy: Policy
    retry_seconds: float
    max_attempts: int
    on_decision_delivered: DecisionDelivered
    lease: timedelta = LEASE

    @property
    def model(self) -> type[Action]:
        """The action outbox table."""
        return Action

    def eligible(self) -> Sequence[ColumnElement[bool]]:
        """Every due action may go: actions of one decision do not wait for each other."""
        return ()

    def prepare(self, session: Session, rows: list[Any]) -> list[PlatformAction]:
        """The command the platform gets for each action."""
        return [self._command(session, action) for action in rows]

    def _command(self, session: Session, action: Action) -> PlatformAction:
        handle, platform, channel_ref = session.execute(
            select(Channel.handle, Channel.platform, Channel.platform_ref).where(
                Channel.id == action.channel_id
            )
        ).one()
        message_id = None
        if action.post_id is not None:
            message_id = session.execute(
                select(Post.message_id).where(Post.id == action.post_id)
            ).scalar_one()
        category_id, decided_message_id = session.execute(
            select(Decision.category, Post.message_id)
            .join(Case, Case.id == Decision.case_id)
            .join(Post, Post.id == Case.post_id)
            .where(Decision.id == action.decision_id)
        ).one()
        category = find_category(self.policy, category_id)
        member_ref, sealed_member = None, None
        if action.kind in MEMBER_KINDS and action.post_id is not None:
            member_ref = session.execute(
                select(Post.author_ref).where(Post.id == action.post_id)
            ).scalar_one()
            member = members.sealed_member(
                session=session, chat_ref=channel_ref or "", author_ref=member_ref
            )
            sealed_member = member.sealed_id if member is not None else None
        return PlatformAction(
            idempotency_key=str(action.id),
            kind=action.kind,
            channel=handle,
            message_id=message_id,
            countries=tuple(action.countries),
            ground=action.ground,
            policy_ref=action.policy_ref,
            policy_name=category.display_name("en") if category else category_id,
            platform=platform,
            channel_ref=channel_ref,
            decided_message_id=decided_message_id if message_id is None else message_id,
            member_ref=member_ref,
            sealed_member=sealed_member,
        )

    def send(self, item: PlatformAction) -> Sent:
        """Hand the command to the platform adapter."""
        self.adapter.apply(item)
        return Sent(ok=True)

    def retry_at(self, row: Any, now: datetime) -> datetime | None:
        """Doubling waits from ``retry_seconds``; give up after ``max_attempts``."""
        if row.attempts >= self.max_attempts:
            return None
        return now + backoff(row.attempts, self.retry_seconds, BACKOFF_CAP)

    def delivered(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Audit the delivery; once a decision's last action landed, say so."""
        audit.record(
            session=session,
            actor=audit.SYSTEM_ACTOR,
            action="action.delivered",
            subject_type="action",
            subject_id=row.id,
            data={"attempts": row.attempts},
        )
        session.flush()
        if all_delivered(session=session, decision_id=row.decision_id):
            self.on_decision_delivered(session, row.case_id, row.decision_id)

    def failed(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Audit the failed attempt: retried later, or given up."""
        event = "action.failed" if row.state == DeliveryState.FAILED else "action.retry_scheduled"
        log.warning(event, action_id=str(row.id), attempts=row.attempts, error=row.last_error)
        audit.record(
            session=session,
            actor=audit.SYSTEM_ACTOR,
            action=event,
            subject_type="action",
            subject_id=row.id,
            data={"attempts": row.attempts},
            # The platform's answer may quote what a person wrote: purgeable, chained by digest.
            free_text={"error": row.last_error},
        )

    def counted(self, item: PlatformAction, sent: Sent) -> None:
        """Count the attempt by kind."""
        (ACTIONS_DELIVERED if sent.ok else ACTION_FAILURES).labels(item.kind).inc()
