"""Several notifiers behind one: each change told to every one of them, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tanggap.notify.port import CaseAlert, DecisionTaken, Notifier, ReportChange


class Notifiers:
    """Tells every notifier it holds, in order (webhooks, the flaggers' bot, the EU database)."""

    def __init__(self, *notifiers: Notifier):
        self.notifiers = notifiers

    def report_changed(self, *, session: Session, change: ReportChange) -> None:
        """Tell every notifier of a change to a report."""
        for notifier in self.notifiers:
            notifier.report_changed(session=session, change=change)

    def reports_changed(self, *, session: Session, changes: Sequence[ReportChange]) -> None:
        """Tell every notifier of changes to many reports."""
        for notifier in self.notifiers:
            notifier.reports_changed(session=session, changes=changes)

    def case_escalated(self, *, session: Session, alert: CaseAlert) -> None:
        """Tell every notifier of an escalated case."""
        for notifier in self.notifiers:
            notifier.case_escalated(session=session, alert=alert)

    def checkpoint_signed(self, *, session: Session, checkpoint: dict[str, object]) -> None:
        """Tell every notifier of a signed audit checkpoint."""
        for notifier in self.notifiers:
            notifier.checkpoint_signed(session=session, checkpoint=checkpoint)

    def decision_taken(self, *, session: Session, decision: DecisionTaken) -> None:
        """Tell every notifier of a decision that took effect."""
        for notifier in self.notifiers:
            notifier.decision_taken(session=session, decision=decision)
