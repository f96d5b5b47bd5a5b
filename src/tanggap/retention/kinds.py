"""The kinds of data retention purges, each with the rows it looks at and what purging does.

A purge takes one batch of rows at a time, locked with ``SKIP LOCKED`` (rows another purge holds
are left to it), so two purges at once neither wait on each other nor count a row twice; a row
already purged no longer matches. Free text becomes ``PURGED_TEXT``, the rows the counts and
the audit need stay; rows nothing refers to are deleted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from tanggap.actions.models import Action
from tanggap.audit.chain import PURGED_TEXT
from tanggap.audit.purge import purge_texts
from tanggap.auth.models import WebSession
from tanggap.cases.models import Case, Decision
from tanggap.channels.models import Channel, TelegramMember
from tanggap.heartbeats.models import JobHeartbeat
from tanggap.idempotency.models import IdempotencyRecord
from tanggap.legal.models import LegalLetter
from tanggap.notify.models import BotNotice, DeliveryAttempt, Notification
from tanggap.outbox import DeliveryState
from tanggap.posts.models import Post
from tanggap.reports.models import Report, ReportMessage, ReportStatus

SETTLED = (ReportStatus.ACTIONED, ReportStatus.DECLINED, ReportStatus.OBJECTED)
FINISHED = (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.CANCELLED)
# The audit events whose free text is the error of a delivery attempt.
DELIVERY_EVENTS = ("action.failed", "action.retry_scheduled")


@dataclass(frozen=True)
class Batch:
    """One batch of a purge: the rows older than ``cutoff``, at most ``limit``; with
    ``dry_run``, only counted (all of them), nothing written."""

    session: Session
    cutoff: datetime
    now: datetime
    limit: int
    dry_run: bool = False


# A kind's purge: how many rows it purged (or, in a dry run, would purge) in one batch.
Purge = Callable[[Batch], int]


def _rows(
    batch: Batch, key: InstrumentedAttribute[Any], where: list[ColumnElement[bool]]
) -> list[Any] | int:
    if batch.dry_run:
        return int(batch.session.execute(select(func.count(key)).where(*where)).scalar_one())
    chosen = (
        select(key).where(*where).order_by(key).limit(batch.limit).with_for_update(skip_locked=True)
    )
    return list(batch.session.execute(chosen).scalars())


def _blank(
    batch: Batch,
    key: InstrumentedAttribute[Any],
    text: InstrumentedAttribute[Any],
    where: list[ColumnElement[bool]],
    marker: str | None = PURGED_TEXT,
) -> int:
    """Replace ``text`` by ``marker`` in the rows that match."""
    if marker is None:
        where = [*where, text.is_not(None)]
    else:
        where = [*where, text.is_not(None), text != marker]
    rows = _rows(batch, key, where)
    if isinstance(rows, int) or not rows:
        return rows if isinstance(rows, int) else 0
    batch.session.execute(
        update(key.class_).where(key.in_(rows)).values({text.key: marker}),
        execution_options={"synchronize_session": False},
    )
    return len(rows)


def _delete(batch: Batch, key: InstrumentedAttribute[Any], where: list[ColumnElement[bool]]) -> int:
    """Delete the rows that match."""
    rows = _rows(batch, key, where)
    if isinstance(rows, int) or not rows:
        return rows if isinstance(rows, int) else 0
    batch.session.execute(
        delete(key.class_).where(key.in_(rows)),
        execution_options={"synchronize_session": False},
    )
    return len(rows)


def report_notes(batch: Batch) -> int:
    """Blank the notes of settled reports received before the cutoff (the report stays: the
    counts, the transparency report and the case need it)."""
    where = [Report.received_at < batch.cutoff, Report.status.in_(SETTLED)]
    return _blank(batch, Report.id, Report.note, where)


def thread_messages(batch: Batch) -> int:
    """Blank the bodies of thread messages sent before the cutoff (who wrote when stays)."""
    return _blank(
        batch, ReportMessage.id, ReportMessage.body, [ReportMessage.created_at < batch.cutoff]
    )


def decision_texts(batch: Batch) -> int:
    """Blank the explanations of decisions taken before the cutoff (outcome, ground and
    category stay for the counts, the appeals and the audit)."""
    return _blank(batch, Decision.id, Decision.explanation, [Decision.decided_at < batch.cutoff])


def idempotency_records(batch: Batch) -> int:
    """Delete stored answers older than the cutoff: a retry that late is a new request."""
    where = [IdempotencyRecord.created_at < batch.cutoff]
    return _delete(batch, IdempotencyRecord.id, where)


def delivery_attempts(batch: Batch) -> int:
    """Delete webhook attempt rows, and blank the error texts of finished deliveries (actions,
    webhooks, bot notices) and of their audit events, and the bodies of finished webhooks and
    bot notices, older than the cutoff."""
    done = _delete(batch, DeliveryAttempt.id, [DeliveryAttempt.attempted_at < batch.cutoff])
    for model in (Action, Notification, BotNotice):
        where = [model.created_at < batch.cutoff, model.state.in_(FINISHED)]
        done += _blank(batch, model.id, model.last_error, where, marker=None)
    # A finished webhook or bot notice is never sent again: the words it carried (a thread
    # message, a note) need not stay for a retry.
    finished = [Notification.created_at < batch.cutoff, Notification.state.in_(FINISHED)]
    done += _blank(batch, Notification.id, Notification.body, finished)
    finished = [BotNotice.created_at < batch.cutoff, BotNotice.state.in_(FINISHED)]
    done += _blank(batch, BotNotice.id, BotNotice.text, finished)
    if batch.dry_run:
        return done  # the audit events' texts go with their rows; counted there
    return done + purge_texts(
        session=batch.session,
        now=batch.now,
        actions=DELIVERY_EVENTS,
        before=batch.cutoff,
        limit=batch.limit,
    )


def web_sessions(batch: Batch) -> int:
    """Delete web sessions that expired before the cutoff."""
    return _delete(batch, WebSession.id_hash, [WebSession.expires_at < batch.cutoff])


def job_heartbeats(batch: Batch) -> int:
    """Delete the heartbeats of jobs whose last round was before the cutoff (a process gone)."""
    if batch.dry_run:
        where = JobHeartbeat.last_round_at < batch.cutoff
        return int(batch.session.execute(select(func.count()).where(where)).scalar_one())
    # Keyed by (job, process): a few rows at most, deleted in one statement.
    result = batch.session.execute(
        delete(JobHeartbeat).where(JobHeartbeat.last_round_at < batch.cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def letters(batch: Batch) -> int:
    """Empty the text of the legal register's letters rendered before the cutoff (the digest
    stays: what was sent can still be proven against a copy)."""
    where = [LegalLetter.rendered_at < batch.cutoff]
    return _blank(batch, LegalLetter.id, LegalLetter.body, where, marker=None)


def telegram_members(batch: Batch) -> int:
    """Delete the sealed Telegram ids of members last seen posting before the cutoff whose posts
    in that chat no case concerns: the bot can ban no one for a post nobody reported. A member
    with a case keeps theirs (a ban to apply, or to lift after an appeal) until an erasure."""
    concerned = (
        select(Case.id)
        .join(Post, Post.id == Case.post_id)
        .join(Channel, Channel.id == Post.channel_id)
        .where(Post.author_ref == TelegramMember.author_ref)
        .where(Channel.platform_ref == TelegramMember.chat_ref)
    )
    where = [TelegramMember.last_seen_at < batch.cutoff, ~concerned.exists()]
    return _delete(batch, TelegramMember.id, where)


# Every kind the policy's ``retention`` section names, in the order a round purges them.
KINDS: dict[str, Purge | None] = {
    "report_notes": report_notes,
    "thread_messages": thread_messages,
    "decision_texts": decision_texts,
    "idempotency_records": idempotency_records,
    "delivery_attempts": delivery_attempts,
    "web_sessions": web_sessions,
    "job_heartbeats": job_heartbeats,
    "letters": letters,
    "telegram_members": telegram_members,
}
