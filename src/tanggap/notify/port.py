"""The port through which reporters, leads and the EU Transparency Database hear what happens:
called in the transaction of every change it tells of, typed on plain data so that no domain hands
its rows to another."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ThreadNote:
    """A message written on a report's thread, as the other side may read it."""

    message_id: uuid.UUID
    author_role: str
    kind: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class ReportChange:
    """Something happened to a report: ``event`` (``report.triaged``, ``report.message``…)."""

    report_id: uuid.UUID
    org_id: uuid.UUID | None  # the flagger organisation that sent it; None for a user report
    event: str
    message: ThreadNote | None = None
    submitted_by: uuid.UUID | None = None  # the principal who sent it (a member, an API token)


@dataclass(frozen=True)
class CaseAlert:
    """A case the leads must look at: it nears its deadline, or a reviewer escalated it."""

    case_id: uuid.UUID
    queue: str
    category: str
    deadline: datetime
    reason: str


@dataclass(frozen=True)
class DecisionTaken:
    """A final decision took effect; ``reverses``: the decision an appeal reversed with it."""

    decision_id: uuid.UUID
    reverses: uuid.UUID | None = None


class Notifier(Protocol):
    """Queues what must be told; must not do slow I/O (the outbox sends later)."""

    def report_changed(self, *, session: Session, change: ReportChange) -> None:
        """Queue what the report's owner should hear."""

    def reports_changed(self, *, session: Session, changes: Sequence[ReportChange]) -> None:
        """Queue what the owners of many reports should hear (one batch, one description)."""

    def case_escalated(self, *, session: Session, alert: CaseAlert) -> None:
        """Queue an alert to the leads."""

    def checkpoint_signed(self, *, session: Session, checkpoint: dict[str, object]) -> None:
        """Queue a signed audit checkpoint (as published) to everyone who keeps a copy."""

    def decision_taken(self, *, session: Session, decision: DecisionTaken) -> None:
        """Queue what a decision that took effect must tell (its statement of reasons)."""
