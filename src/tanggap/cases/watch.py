"""What the deadline watch acts on (pure: no database): a lapsed lease, a case due for
escalation, a missed deadline. ``review/deadlines.py`` checks these again under the case's
lock; the simulator applies them to cases held in memory."""

from __future__ import annotations

from datetime import datetime

from tanggap.cases.states import IN_REVIEW, OPEN_STATES, CaseState


def lease_lapsed(*, state: CaseState, lease_expires_at: datetime | None, now: datetime) -> bool:
    """Tell whether a claim ran out without a decision: the case goes back to its queue."""
    return state == IN_REVIEW and lease_expires_at is not None and lease_expires_at < now


def escalation_due(
    *, state: CaseState, near_at: datetime, escalated_at: datetime | None, now: datetime
) -> bool:
    """Tell whether an undecided case passed its near-deadline point and is not yet escalated."""
    return state in OPEN_STATES and escalated_at is None and near_at <= now


def breach_due(
    *, state: CaseState, deadline: datetime, breached_at: datetime | None, now: datetime
) -> bool:
    """Tell whether an undecided case passed its deadline and the breach is not yet recorded."""
    return state in OPEN_STATES and breached_at is None and deadline <= now
