"""A recorded period read from the database, read-only: the cases that arrived in it, what the
real triage gave them and when they were decided, and the reviewers who worked then (their
skills, when they were active, how long each case took them from claim to decision)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.audit.models import AuditEvent
from tanggap.auth.models import Principal
from tanggap.cases.models import Case, Decision
from tanggap.reports.models import Report
from tanggap.reviewers.models import ReviewerClearance, ReviewerLanguage
from tanggap.simulation.scenario import Source

# A reviewer's activity (claims and decisions) with no pause longer than this is one stretch on
# duty: from its first claim to its last decision.
ACTIVITY_GAP = timedelta(hours=2)
_STRENGTH = {"removal_order": 0, "flagger": 1, "user": 2, "automated": 3}


@dataclass(frozen=True)
class RecordedCase:
    """One case of the period as it happened."""

    case_id: uuid.UUID
    source: Source
    category: str
    language: str
    received_at: datetime
    queue: str
    deadline: datetime
    near_at: datetime
    rank_at: datetime
    head_start_minutes: float
    decided_at: datetime | None
    # Claim to decision by the reviewer who decided it (None: undecided, or no claim found).
    handling_seconds: float | None


@dataclass(frozen=True)
class RecordedReviewer:
    """Someone who claimed or decided cases in the period, with their skills today and the
    stretches of time they were active."""

    principal_id: uuid.UUID
    role: str
    languages: tuple[str, ...]
    clearances: tuple[str, ...]
    active: tuple[tuple[datetime, datetime], ...]


@dataclass(frozen=True)
class History:
    """A recorded period: its cases (arrived in ``[since, until)``) and its reviewers, read up
    to ``through`` (the last decision on one of its cases)."""

    since: datetime
    until: datetime
    through: datetime
    cases: list[RecordedCase]
    reviewers: list[RecordedReviewer]


def _actor_id(actor: str) -> uuid.UUID | None:
    _, _, tail = actor.partition(":")
    try:
        return uuid.UUID(tail)
    except ValueError:
        return None


def _sources(session: Session, since: datetime, until: datetime) -> dict[uuid.UUID, Source]:
    """Return each case's strongest report source (a removal order above a flagger's notice
    above a user's report)."""
    rows = session.execute(
        select(Report.case_id, Report.source, Report.order_type)
        .join(Case, Case.id == Report.case_id)
        .where(Case.opened_at >= since, Case.opened_at < until)
        .group_by(Report.case_id, Report.source, Report.order_type)
    )
    strongest: dict[uuid.UUID, Source] = {}
    for case_id, source, order_type in rows:
        found = cast(Source, "removal_order" if order_type == "removal_order" else source)
        known = strongest.get(case_id)
        if known is None or _STRENGTH[found] < _STRENGTH[known]:
            strongest[case_id] = found
    return strongest


def _received(session: Session, since: datetime, until: datetime) -> dict[uuid.UUID, datetime]:
    rows = session.execute(
        select(Report.case_id, func.min(Report.received_at))
        .join(Case, Case.id == Report.case_id)
        .where(Case.opened_at >= since, Case.opened_at < until)
        .group_by(Report.case_id)
    )
    return {case_id: at for case_id, at in rows}


def _first_decisions(
    session: Session, since: datetime, until: datetime
) -> dict[uuid.UUID, tuple[uuid.UUID | None, datetime]]:
    """Return who first decided each case of the period and when (None: automatically)."""
    rows = session.execute(
        select(Decision.case_id, Decision.decided_by_id, func.min(Decision.decided_at))
        .join(Case, Case.id == Decision.case_id)
        .where(Case.opened_at >= since, Case.opened_at < until)
        .group_by(Decision.case_id, Decision.decided_by_id)
    )
    first: dict[uuid.UUID, tuple[uuid.UUID | None, datetime]] = {}
    for case_id, decided_by, at in rows:
        if case_id not in first or at < first[case_id][1]:
            first[case_id] = (decided_by, at)
    return first


def _claims(
    session: Session, since: datetime, through: datetime
) -> list[tuple[uuid.UUID, str, datetime]]:
    """Return every claim in the period as (claimer, case id, moment), from the audit trail."""
    rows = session.execute(
        select(AuditEvent.actor, AuditEvent.subject_id, AuditEvent.occurred_at).where(
            AuditEvent.action == "case.claimed",
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at <= through,
        )
    )
    claims = []
    for actor, subject_id, at in rows:
        who = _actor_id(actor)
        if who is not None:
            claims.append((who, subject_id, at))
    return claims


def taken_at(
    claims: list[tuple[datetime, uuid.UUID]], decider: uuid.UUID, decided_at: datetime
) -> datetime | None:
    """Return when the decider took the case: the first of their claims (a renewal is a claim
    too) since the last claim by anyone else before the decision."""
    taken = None
    for at, who in sorted(c for c in claims if c[0] <= decided_at):
        if who != decider:
            taken = None
        elif taken is None:
            taken = at
    return taken


def active_stretches(
    moments: list[datetime], gap: timedelta
) -> tuple[tuple[datetime, datetime], ...]:
    """Split a reviewer's activity into stretches on duty at every pause longer than ``gap``."""
    ordered = sorted(moments)
    stretches: list[tuple[datetime, datetime]] = []
    begins = ends = ordered[0]
    for moment in ordered[1:]:
        if moment - ends > gap:
            stretches.append((begins, ends))
            begins = moment
        ends = moment
    stretches.append((begins, ends))
    return tuple(stretches)


def _reviewers(
    session: Session, activity: dict[uuid.UUID, list[datetime]], gap: timedelta
) -> list[RecordedReviewer]:
    ids = list(activity)
    if not ids:
        return []
    roles = {
        who: role
        for who, role in session.execute(
            select(Principal.id, Principal.role).where(Principal.id.in_(ids))
        )
    }
    languages: dict[uuid.UUID, list[str]] = defaultdict(list)
    for who, language in session.execute(
        select(ReviewerLanguage.principal_id, ReviewerLanguage.language)
        .where(ReviewerLanguage.principal_id.in_(ids))
        .order_by(ReviewerLanguage.principal_id, ReviewerLanguage.language)
    ):
        languages[who].append(language)
    clearances: dict[uuid.UUID, list[str]] = defaultdict(list)
    for who, category in session.execute(
        select(ReviewerClearance.principal_id, ReviewerClearance.category).where(
            ReviewerClearance.principal_id.in_(ids)
        )
    ):
        clearances[who].append(category)
    return [
        RecordedReviewer(
            principal_id=who,
            role=roles.get(who, "reviewer"),
            languages=tuple(languages[who]),
            clearances=tuple(sorted(clearances[who])),
            active=active_stretches(activity[who], gap),
        )
        for who in sorted(ids)
        if roles.get(who) in {"reviewer", "lead", "admin"}
    ]


def read_history(
    *, session: Session, since: datetime, until: datetime, gap: timedelta = ACTIVITY_GAP
) -> History:
    """Read the period ``[since, until)`` from the database (reads only)."""
    rows = session.execute(
        select(
            Case.id,
            Case.category,
            Case.language,
            Case.queue,
            Case.deadline,
            Case.near_at,
            Case.rank_at,
            Case.priority,
            Case.opened_at,
            Case.triaged_at,
        ).where(Case.opened_at >= since, Case.opened_at < until)
    ).all()
    sources = _sources(session, since, until)
    received = _received(session, since, until)
    decided = _first_decisions(session, since, until)
    through = max([until, *(at for _, at in decided.values())])
    claims = _claims(session, since, through)
    claims_of: dict[str, list[tuple[datetime, uuid.UUID]]] = defaultdict(list)
    activity: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for who, case_ref, at in claims:
        claims_of[case_ref].append((at, who))
        activity[who].append(at)
    for decider, at in session.execute(
        select(Decision.decided_by_id, Decision.decided_at).where(
            Decision.decided_by_id.is_not(None),
            Decision.decided_at >= since,
            Decision.decided_at <= through,
        )
    ):
        if decider is not None:
            activity[decider].append(at)
    cases = []
    for row in rows:
        if row.triaged_at is None:
            continue  # never queued: no reviewer could have taken it
        decision = decided.get(row.id)
        if decision is not None and decision[0] is None:
            continue  # decided automatically: it never waited for a reviewer
        handling = None
        if decision is not None and decision[0] is not None:
            taken = taken_at(claims_of.get(str(row.id), []), decision[0], decision[1])
            if taken is not None:
                handling = (decision[1] - taken).total_seconds()
        cases.append(
            RecordedCase(
                case_id=row.id,
                source=sources.get(row.id, "automated"),
                category=row.category,
                language=row.language,
                received_at=received.get(row.id, row.opened_at),
                queue=row.queue,
                deadline=row.deadline,
                near_at=row.near_at,
                rank_at=row.rank_at,
                head_start_minutes=row.priority,
                decided_at=decision[1] if decision else None,
                handling_seconds=handling,
            )
        )
    cases.sort(key=lambda c: (c.received_at, str(c.case_id)))
    return History(
        since=since,
        until=until,
        through=through,
        cases=cases,
        reviewers=_reviewers(session, activity, gap),
    )
