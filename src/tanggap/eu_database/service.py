"""Queue a decision's statement for the EU Transparency Database in the decision's own
transaction, checked first; list the submissions and requeue a refused one for admins."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.appeals.statement import of_decision
from tanggap.audit import service as audit
from tanggap.cases.models import Case, Decision, DecisionState
from tanggap.cases.schemas import RESTRICTING_OUTCOMES
from tanggap.channels.models import Channel
from tanggap.db.base import utcnow
from tanggap.db.wake import EU_STATEMENTS, wake
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.eu_database.build import PostFacts, build, puid_of
from tanggap.eu_database.models import EuStatement
from tanggap.eu_database.schemas import EuStatementOut, Submission
from tanggap.eu_database.validate import Problem, problems
from tanggap.notify.port import CaseAlert, DecisionTaken, ReportChange
from tanggap.outbox import DeliveryState
from tanggap.policy.schemas import Policy
from tanggap.posts.models import Post

STATE_OF: dict[Submission, DeliveryState] = {
    "pending": DeliveryState.PENDING,
    "sent": DeliveryState.DELIVERED,
    "refused": DeliveryState.FAILED,
}
SUBMISSION_OF = {state: name for name, state in STATE_OF.items()}


def statement_of(
    *, session: Session, decision_id: uuid.UUID, policy: Policy
) -> dict[str, object] | None:
    """Return the database's statement of a decision, or None when it takes none: only final
    first-instance decisions that restrict the post in at least one EEA country."""
    decision = session.get(Decision, decision_id)
    if (
        decision is None
        or decision.state != DecisionState.FINAL
        or decision.outcome not in RESTRICTING_OUTCOMES
    ):
        return None
    case = session.get(Case, decision.case_id)
    post = session.get(Post, case.post_id) if case else None
    channel = session.get(Channel, post.channel_id) if post else None
    assert case is not None and post is not None and channel is not None
    public = of_decision(
        session=session,
        case=case,
        decision=decision,
        channel=channel.handle,
        message_id=post.message_id,
        policy=policy,
    )
    body = build(
        public,
        PostFacts(
            posted_at=post.posted_at,
            has_text=bool(post.text.strip()),
            has_media=bool(post.media),
            language=post.language,
        ),
    )
    return body if body["territorial_scope"] else None


def queue(*, session: Session, decision_id: uuid.UUID, policy: Policy) -> EuStatement | None:
    """Queue the statement of a decision that takes one, in the caller's transaction: pending
    when it passes the database's rules, refused (with the fields and reasons) when not."""
    body = statement_of(session=session, decision_id=decision_id, policy=policy)
    if body is None:
        return None
    row = EuStatement(decision_id=decision_id, puid=puid_of(decision_id))
    _fill(row, body, problems(body))
    session.add(row)
    session.flush()
    if row.state == DeliveryState.PENDING:
        wake(session, EU_STATEMENTS)
    else:
        _audit_refusal(session, row, audit.SYSTEM_ACTOR)
    return row


def _fill(row: EuStatement, body: dict[str, object], found: Sequence[Problem]) -> None:
    row.body = json.dumps(body, ensure_ascii=False, sort_keys=True)
    row.next_attempt_at = utcnow()
    row.last_error = None
    row.maybe_received = False
    if not found:
        row.state = DeliveryState.PENDING
        row.refused_by = None
        row.refusals = None
        return
    refusals: dict[str, list[str]] = {}
    for problem in found:
        refusals.setdefault(problem.field, []).append(problem.reason)
    row.state = DeliveryState.FAILED
    row.refused_by = "tanggap"
    row.refusals = refusals
    row.last_error = "; ".join(f"{field} {' '.join(why)}" for field, why in refusals.items())


def _audit_refusal(session: Session, row: EuStatement, actor: str) -> None:
    audit.record(
        session=session,
        actor=actor,
        action="eu_statement.refused",
        subject_type="decision",
        subject_id=row.decision_id,
        data={"puid": row.puid, "refused_by": row.refused_by, "fields": sorted(row.refusals or {})},
    )


def mark_reversed(*, session: Session, decision_id: uuid.UUID) -> None:
    """Note that an appeal reversed a decision whose statement was queued: the database has no
    update, so the statement stays as the record of the restriction that was applied."""
    row = session.execute(
        select(EuStatement).where(EuStatement.decision_id == decision_id)
    ).scalar_one_or_none()
    if row is not None and row.reversed_at is None:
        row.reversed_at = utcnow()


class EuStatementQueue:
    """The notifier that queues a statement for every decision that takes effect (the runtime
    adds it when submission is configured); told nothing else."""

    def __init__(self, policy: Policy):
        self.policy = policy

    def decision_taken(self, *, session: Session, decision: DecisionTaken) -> None:
        """Queue the decision's statement, or note that it reversed one on appeal."""
        if decision.reverses is not None:
            mark_reversed(session=session, decision_id=decision.reverses)
            return
        queue(session=session, decision_id=decision.decision_id, policy=self.policy)

    def report_changed(self, *, session: Session, change: ReportChange) -> None:
        """Reports are none of the database's business."""

    def reports_changed(self, *, session: Session, changes: Sequence[ReportChange]) -> None:
        """Reports are none of the database's business."""

    def case_escalated(self, *, session: Session, alert: CaseAlert) -> None:
        """Escalations are none of the database's business."""

    def checkpoint_signed(self, *, session: Session, checkpoint: dict[str, object]) -> None:
        """Audit checkpoints are none of the database's business."""


def submissions(
    *, session: Session, state: Submission | None = None, limit: int = 100
) -> list[EuStatementOut]:
    """Return the submissions, newest first (only those in ``state`` when given)."""
    query = select(EuStatement).order_by(EuStatement.created_at.desc(), EuStatement.id)
    if state is not None:
        query = query.where(EuStatement.state == STATE_OF[state])
    return [statement_out(row) for row in session.execute(query.limit(limit)).scalars()]


def statement_out(row: EuStatement) -> EuStatementOut:
    """Shape a submission for admins."""
    pending = row.state == DeliveryState.PENDING
    return EuStatementOut(
        statement_id=row.id,
        decision_id=row.decision_id,
        puid=row.puid,
        state=SUBMISSION_OF.get(row.state, "refused"),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if pending else None,
        last_status=row.last_status,
        last_error=row.last_error,
        refused_by=row.refused_by,  # type: ignore[arg-type]
        refusals={field: list(why) for field, why in (row.refusals or {}).items()},
        eu_uuid=row.eu_uuid,
        reversed_at=row.reversed_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        statement=json.loads(row.body),
    )


def requeue(
    *, session: Session, statement_id: uuid.UUID, policy: Policy, actor: str
) -> EuStatement:
    """Build a refused statement again from its decision (after a fix) and queue it; still
    refused, nothing changes and the first refused field is named (422)."""
    row = session.execute(
        select(EuStatement).where(EuStatement.id == statement_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no statement {statement_id}", field="statement_id")
    if row.state != DeliveryState.FAILED:
        raise Conflict(
            f"statement {statement_id} is {SUBMISSION_OF.get(row.state, row.state)}: "
            "only a refused one can be queued again",
            field="statement_id",
        )
    body = statement_of(session=session, decision_id=row.decision_id, policy=policy)
    if body is None:
        raise Conflict(
            f"decision {row.decision_id} no longer takes a statement", field="statement_id"
        )
    found = problems(body)
    if found:
        raise InvalidInput(f"{found[0].field} {found[0].reason}", field=found[0].field)
    _fill(row, body, found)
    row.attempts = 0
    row.last_status = None
    session.flush()
    wake(session, EU_STATEMENTS)
    audit.record(
        session=session,
        actor=actor,
        action="eu_statement.requeued",
        subject_type="decision",
        subject_id=row.decision_id,
        data={"puid": row.puid},
    )
    return row
