"""Signed webhooks to flagger organisations and the leads: queued by the notifier in the
transaction of the change, sent by the outbox engine in order per report."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from tanggap.audit.chain import canonical_json
from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.db.wake import WEBHOOKS, wake
from tanggap.flaggers.models import FlaggerOrg
from tanggap.notify.models import DeliveryAttempt, Notification
from tanggap.notify.port import CaseAlert, DecisionTaken, ReportChange
from tanggap.notify.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from tanggap.outbox import DeliveryState, Sent, backoff, head_of_line
from tanggap.outbox.engine import CLAIM_BATCH

log = structlog.get_logger(__name__)
BACKOFF_CAP = timedelta(minutes=10)

# How reports look in a webhook: the reporter's view of each, as JSON, in the order asked for
# (wired by the runtime).
ReportDescriber = Callable[[Session, Sequence[uuid.UUID]], list[dict[str, Any]]]


@dataclass(frozen=True)
class LeadWebhook:
    """Where lead alerts go and the secret they are signed with."""

    url: str
    secret: str


def lead_webhook_from(settings: Settings) -> LeadWebhook | None:
    """Return where lead alerts go, when the settings name a lead webhook."""
    if not settings.lead_webhook_url or not settings.lead_webhook_secret:
        return None
    return LeadWebhook(url=settings.lead_webhook_url, secret=settings.lead_webhook_secret)


class OutboxNotifier:
    """Queues signed webhooks in the caller's transaction: to the reporting organisation, and
    (when configured) lead alerts to the platform's own webhook."""

    def __init__(self, describe_report: ReportDescriber, lead_webhook: LeadWebhook | None = None):
        self.describe_report = describe_report
        self.lead_webhook = lead_webhook

    def case_escalated(self, *, session: Session, alert: CaseAlert) -> None:
        """Queue a lead alert: no post text, no pseudonym, only what finds the case."""
        if self.lead_webhook is None:
            return
        notification_id = uuid.uuid4()
        payload = {
            "event_id": str(notification_id),
            "event": "case.escalated",
            "occurred_at": utcnow().isoformat(),
            "case": {
                "case_id": str(alert.case_id),
                "queue": alert.queue,
                "category": alert.category,
                "deadline": alert.deadline.isoformat(),
                "reason": alert.reason,
                "console_path": f"/console/cases/{alert.case_id}",
            },
        }
        session.add(
            Notification(
                id=notification_id,
                audience="leads",
                org_id=None,
                report_id=None,
                event="case.escalated",
                body=canonical_json(payload),
            )
        )
        session.flush()
        wake(session, WEBHOOKS)

    def checkpoint_signed(self, *, session: Session, checkpoint: dict[str, object]) -> None:
        """Queue the checkpoint to every enabled organisation with a webhook: copies kept outside
        the database let anyone show later that the audit log was rewritten."""
        orgs = session.execute(
            select(FlaggerOrg.id).where(
                FlaggerOrg.webhook_url.is_not(None), FlaggerOrg.disabled_at.is_(None)
            )
        ).scalars()
        for org_id in orgs:
            notification_id = uuid.uuid4()
            payload = {
                "event_id": str(notification_id),
                "event": "audit.checkpoint",
                "occurred_at": utcnow().isoformat(),
                "checkpoint": checkpoint,
            }
            session.add(
                Notification(
                    id=notification_id,
                    org_id=org_id,
                    report_id=None,
                    event="audit.checkpoint",
                    body=canonical_json(payload),
                )
            )
        session.flush()

    def decision_taken(self, *, session: Session, decision: DecisionTaken) -> None:
        """A decision reaches the organisations through their reports' changes."""

    def report_changed(self, *, session: Session, change: ReportChange) -> None:
        """Queue one notification when the report's organisation has a webhook URL."""
        self.reports_changed(session=session, changes=[change])

    def reports_changed(self, *, session: Session, changes: Sequence[ReportChange]) -> None:
        """Queue a notification for each change whose organisation has a webhook URL, the
        reports described together (a bulk submission tells of many at once)."""
        org_ids = {change.org_id for change in changes if change.org_id is not None}
        if not org_ids:
            return  # user reports: no organisation to tell
        listening = {
            org.id
            for org in session.scalars(select(FlaggerOrg).where(FlaggerOrg.id.in_(org_ids)))
            if org.webhook_url and org.disabled_at is None
        }
        told = [change for change in changes if _tells(listening, change)]
        if not told:
            return
        described = self.describe_report(session, [change.report_id for change in told])
        for change, report in zip(told, described, strict=True):
            notification_id = uuid.uuid4()
            payload: dict[str, object] = {
                "event_id": str(notification_id),
                "event": change.event,
                "occurred_at": utcnow().isoformat(),
                "report": report,
            }
            message = change.message
            if message is not None:
                payload["message"] = {
                    "message_id": str(message.message_id),
                    "author_role": message.author_role,
                    "kind": message.kind,
                    "body": message.body,
                    "created_at": message.created_at.isoformat(),
                }
            session.add(
                Notification(
                    id=notification_id,
                    org_id=change.org_id,
                    report_id=change.report_id,
                    event=change.event,
                    body=canonical_json(payload),
                )
            )  # flushed with the reports they tell of
        wake(session, WEBHOOKS)


def _tells(listening: set[uuid.UUID], change: ReportChange) -> bool:
    """Tell whether a change goes to its organisation: one with a webhook, not written by it."""
    if change.org_id not in listening:
        return False
    return change.message is None or change.message.author_role != "flagger"


@dataclass(frozen=True)
class Webhook:
    """One claimed webhook: where it goes, the secret it is signed with, the exact body."""

    id: uuid.UUID
    url: str
    secret: str
    body: str


@dataclass
class WebhookDelivery:
    """The outbox kind of webhooks (see ``tanggap.outbox.engine``): oldest first and one at a
    time per report, so that a report's events arrive in order; given up after a while."""

    client: httpx.Client
    retry_seconds: float
    give_up_after: timedelta
    timeout_seconds: float
    lead_webhook: LeadWebhook | None = None

    @property
    def model(self) -> type[Notification]:
        """The notification outbox table."""
        return Notification

    @property
    def lease(self) -> timedelta:
        """Longer than sending a claimed batch can take."""
        return timedelta(seconds=self.timeout_seconds * CLAIM_BATCH + 60)

    def eligible(self) -> Sequence[ColumnElement[bool]]:
        """Head of line per report; lead alerts wait (not lost) while no lead webhook is set."""
        audiences = ("flagger", "leads") if self.lead_webhook else ("flagger",)
        return (Notification.audience.in_(audiences), head_of_line(Notification, "report_id"))

    def prepare(self, session: Session, rows: list[Any]) -> list[Webhook]:
        """Each notification with its organisation's (or the leads') URL and secret."""
        org_ids = {row.org_id for row in rows if row.org_id is not None}
        orgs = {
            org_id: (url, secret)
            for org_id, url, secret in session.execute(
                select(FlaggerOrg.id, FlaggerOrg.webhook_url, FlaggerOrg.webhook_secret).where(
                    FlaggerOrg.id.in_(org_ids)
                )
            )
        }
        claimed = []
        for row in rows:
            url, secret = orgs.get(row.org_id, (None, None))
            if row.audience == "leads" and self.lead_webhook is not None:
                url, secret = self.lead_webhook.url, self.lead_webhook.secret
            claimed.append(Webhook(row.id, url or "", secret or "", row.body))
        return claimed

    def send(self, item: Webhook) -> Sent:
        """POST the body, signed; a 2xx answer delivers it."""
        body = item.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Tanggap-Webhook/1",
            EVENT_ID_HEADER: str(item.id),
            SIGNATURE_HEADER: sign(secret=item.secret, body=body),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = self.client.post(item.url, content=body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        elapsed = int((time.perf_counter() - started) * 1000)
        return Sent(ok=error is None, error=error, status=status, duration_ms=elapsed)

    def retry_at(self, row: Any, now: datetime) -> datetime | None:
        """Doubling waits from ``retry_seconds``; give up ``give_up_after`` the event."""
        if now - row.created_at >= self.give_up_after:
            return None
        return now + backoff(row.attempts, self.retry_seconds, BACKOFF_CAP)

    def delivered(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Log the attempt."""
        self._log_attempt(session, row, sent, now)

    def failed(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Log the attempt; say so when the webhook is given up."""
        self._log_attempt(session, row, sent, now)
        if row.state == DeliveryState.FAILED:
            log.warning("webhook.gave_up", notification_id=str(row.id), error=sent.error)

    def counted(self, item: Webhook, sent: Sent) -> None:
        """Webhooks have no metric of their own (the delivery log counts)."""

    def _log_attempt(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        row.last_status = sent.status
        session.add(
            DeliveryAttempt(
                notification_id=row.id,
                attempted_at=now,
                status=sent.status,
                error=sent.error,
                duration_ms=sent.duration_ms,
            )
        )
