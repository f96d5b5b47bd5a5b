"""Webhooks to flagger organisations through a transactional outbox, delivered in order."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from tanggap.audit.chain import canonical_json
from tanggap.cases.models import Case
from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.flaggers.models import FlaggerOrg
from tanggap.notify.models import DeliveryAttempt, Notification
from tanggap.notify.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from tanggap.reports.models import Report
from tanggap.reports.present import present
from tanggap.threads.models import ReportMessage

log = structlog.get_logger(__name__)
MAX_BACKOFF = timedelta(minutes=10)
CLAIM_BATCH = 10


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
    """Queues signed webhooks in the same transaction: to the reporting organisation, and
    (when configured) lead alerts to the platform's own webhook."""

    def __init__(self, lead_webhook: LeadWebhook | None = None):
        self.lead_webhook = lead_webhook

    def case_escalated(self, *, session: Session, case: Case, reason: str) -> None:
        """Queue a lead alert: no post text, no pseudonym, only what finds the case."""
        if self.lead_webhook is None:
            return
        notification_id = uuid.uuid4()
        payload = {
            "event_id": str(notification_id),
            "event": "case.escalated",
            "occurred_at": utcnow().isoformat(),
            "case": {
                "case_id": str(case.id),
                "queue": case.queue,
                "category": case.category,
                "deadline": case.deadline.isoformat(),
                "reason": reason,
                "console_path": f"/console/cases/{case.id}",
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

    def report_changed(
        self, *, session: Session, report: Report, event: str, message: ReportMessage | None = None
    ) -> None:
        """Queue one notification when the report's organisation has a webhook URL."""
        if report.flagger_org_id is None:
            return
        org = session.get(FlaggerOrg, report.flagger_org_id)
        if org is None or not org.webhook_url or org.disabled_at is not None:
            return
        if message is not None and message.author_role == "flagger":
            return  # the organisation wrote it: nothing to tell it
        notification_id = uuid.uuid4()
        payload: dict[str, object] = {
            "event_id": str(notification_id),
            "event": event,
            "occurred_at": utcnow().isoformat(),
            "report": present(session=session, reports=[report])[0].model_dump(
                mode="json", exclude={"unread_messages"}
            ),
        }
        if message is not None:
            payload["message"] = {
                "message_id": str(message.id),
                "author_role": message.author_role,
                "kind": message.kind,
                "body": message.body,
                "created_at": message.created_at.isoformat(),
            }
        session.add(
            Notification(
                id=notification_id,
                org_id=org.id,
                report_id=report.id,
                event=event,
                body=canonical_json(payload),
            )
        )
        session.flush()


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    url: str
    secret: str
    body: str


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Return the wait after ``attempts`` failures: doubling, capped at ten minutes."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_due(
    *,
    factory: sessionmaker[Session],
    client: httpx.Client,
    retry_seconds: float,
    give_up_after: timedelta,
    timeout_seconds: float,
    lead_webhook: LeadWebhook | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> int:
    """Send due notifications, oldest first and one at a time per report; return how many.

    ``now`` fixes the clock (tests); otherwise every round reads it afresh. A claimed batch is
    leased for longer than sending it can take, so another dispatcher never sends it meanwhile.
    """
    lease = timedelta(seconds=timeout_seconds * CLAIM_BATCH + 60)
    delivered = sent = 0
    while sent < limit:
        # Each round sends the oldest waiting webhook of each report; the next round the ones
        # after them, so a report's events leave in order.
        batch = _claim(
            factory, now or utcnow(), min(CLAIM_BATCH, limit - sent), lease, lead_webhook
        )
        if not batch:
            break
        for item in batch:
            ok = _send(factory, client, item, now or utcnow(), retry_seconds, give_up_after)
            delivered += ok
            sent += 1
    return delivered


def _claim(
    factory: sessionmaker[Session],
    now: datetime,
    limit: int,
    lease: timedelta,
    lead_webhook: LeadWebhook | None,
) -> list[_Claimed]:
    earlier = aliased(Notification)
    # Head of line per report: nothing is sent while an older one for the same report waits.
    older_pending = exists().where(
        and_(
            earlier.report_id == Notification.report_id,
            earlier.state == "pending",
            earlier.created_at < Notification.created_at,
        )
    )
    # Lead alerts wait (they are not lost) while no lead webhook is configured.
    audiences = ("flagger", "leads") if lead_webhook else ("flagger",)
    with factory() as session, session.begin():
        rows = session.execute(
            select(Notification, FlaggerOrg.webhook_url, FlaggerOrg.webhook_secret)
            .outerjoin(FlaggerOrg, FlaggerOrg.id == Notification.org_id)
            .where(Notification.state == "pending")
            .where(Notification.audience.in_(audiences))
            .where(Notification.next_attempt_at <= now)
            .where(~older_pending)
            .order_by(Notification.created_at, Notification.id)
            .limit(limit)
            .with_for_update(of=Notification, skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        claimed = []
        for notification, url, secret in rows:
            # A lease: another dispatcher leaves it alone while this one sends it.
            notification.next_attempt_at = now + lease
            if notification.audience == "leads" and lead_webhook is not None:
                url, secret = lead_webhook.url, lead_webhook.secret
            claimed.append(_Claimed(notification.id, url or "", secret or "", notification.body))
    return claimed


def _send(
    factory: sessionmaker[Session],
    client: httpx.Client,
    item: _Claimed,
    now: datetime,
    retry_seconds: float,
    give_up_after: timedelta,
) -> bool:
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
        response = client.post(item.url, content=body, headers=headers)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    elapsed = int((time.perf_counter() - started) * 1000)
    with factory() as session, session.begin():
        notification = session.get(Notification, item.id)
        assert notification is not None
        notification.attempts += 1
        notification.last_status = status
        notification.last_error = error
        session.add(
            DeliveryAttempt(
                notification_id=item.id,
                attempted_at=now,
                status=status,
                error=error,
                duration_ms=elapsed,
            )
        )
        if error is None:
            notification.state = "delivered"
            notification.delivered_at = now
            return True
        if now - notification.created_at >= give_up_after:
            notification.state = "failed"
            log.warning("webhook.gave_up", notification_id=str(item.id), error=error)
        else:
            notification.next_attempt_at = now + backoff(notification.attempts, retry_seconds)
        return False
