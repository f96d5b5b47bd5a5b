"""The deadline watch: expired claims go back to their queue, cases near their deadline are
escalated to the leads, missed deadlines are recorded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from tanggap.cases import service as cases
from tanggap.cases import states, watch
from tanggap.cases.models import Case
from tanggap.cases.states import CaseState
from tanggap.db.base import utcnow
from tanggap.metrics import BREACHES, ESCALATIONS
from tanggap.notify.port import Notifier
from tanggap.review.decisions import alert_of

log = structlog.get_logger(__name__)
ACTOR = "system:deadline-watch"


@dataclass
class WatchRound:
    """What one round of the deadline watch did."""

    leases_expired: int = 0
    escalated: int = 0
    breached: int = 0

    @property
    def total(self) -> int:
        """Return how many cases changed."""
        return self.leases_expired + self.escalated + self.breached


def watch_deadlines(
    *, factory: sessionmaker[Session], notifier: Notifier, now: datetime | None = None
) -> WatchRound:
    """Return expired claims to their queue, escalate cases near their deadline, record breaches."""
    now = now or utcnow()
    done = WatchRound()
    with factory() as session:
        expired = _ids(session, Case.state == CaseState.IN_REVIEW, Case.lease_expires_at < now)
        near = _ids(session, Case.near_at <= now, Case.escalated_at.is_(None))
        late = _ids(session, Case.deadline <= now, Case.breached_at.is_(None))
    for case_id in expired:
        with factory() as session, session.begin():
            case = cases.lock(session=session, case_id=case_id)
            if watch.lease_lapsed(
                state=case.state, lease_expires_at=case.lease_expires_at, now=now
            ):
                cases.move(session=session, case=case, state=CaseState.OPEN, actor=ACTOR)
                done.leases_expired += 1
    for case_id in near:
        with factory() as session, session.begin():
            case = cases.lock(session=session, case_id=case_id)
            if watch.escalation_due(
                state=case.state, near_at=case.near_at, escalated_at=case.escalated_at, now=now
            ):
                case.escalated_at = now
                cases.audit_case(session, ACTOR, "case.escalated", case, deadline=case.deadline)
                notifier.case_escalated(session=session, alert=alert_of(case, "near_deadline"))
                ESCALATIONS.inc()
                done.escalated += 1
    for case_id in late:
        with factory() as session, session.begin():
            case = cases.lock(session=session, case_id=case_id)
            if watch.breach_due(
                state=case.state, deadline=case.deadline, breached_at=case.breached_at, now=now
            ):
                case.breached_at = now
                cases.audit_case(
                    session, ACTOR, "case.deadline_breached", case, deadline=case.deadline
                )
                BREACHES.labels(case.category).inc()
                done.breached += 1
    if done.total:
        log.info("deadline_watch.round", **vars(done))
    return done


def _ids(session: Session, *conditions: ColumnElement[bool]) -> list[uuid.UUID]:
    query = select(Case.id).where(Case.state.in_(states.OPEN_STATES)).where(*conditions)
    return list(session.execute(query.order_by(Case.deadline).limit(500)).scalars())
