"""Handing cases to reviewers: a claim moves the case's reports into review and tells their
reporters."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from tanggap.auth.schemas import Caller
from tanggap.cases import claims
from tanggap.cases.models import Case
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Policy
from tanggap.reports import service as reports
from tanggap.reports.models import ReportStatus
from tanggap.reviewers import service as reviewers


def assign(
    *,
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    lease: timedelta,
    policy: Policy,
    notifier: Notifier,
) -> Case:
    """Claim a case for ``caller`` (or renew the claim) and tell its reporters it is in review."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    case = claims.claim(
        session=session, caller=caller, case_id=case_id, lease=lease, skills=skills, policy=policy
    )
    _reports_in_review(session, caller, case, notifier)
    return case


def assign_next(
    *, session: Session, caller: Caller, lease: timedelta, policy: Policy, notifier: Notifier
) -> Case | None:
    """Claim the next case ``caller`` may take (None when nothing waits); reporters are told."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    case = claims.claim_next(
        session=session, caller=caller, skills=skills, policy=policy, lease=lease
    )
    if case is not None:
        _reports_in_review(session, caller, case, notifier)
    return case


def _reports_in_review(session: Session, caller: Caller, case: Case, notifier: Notifier) -> None:
    for report in reports.reports_of_case(
        session=session,
        case_id=case.id,
        statuses=(ReportStatus.RECEIVED, ReportStatus.TRIAGED),
    ):
        reports.set_status(
            session=session,
            report=report,
            status=ReportStatus.IN_REVIEW,
            actor=caller.audit_actor,
            notifier=notifier,
        )
