"""Bot notices to flaggers in Telegram: queued in the transaction of the change they tell of, to
the linked member who sent the report, and sent by the outbox engine through a ``BotSender``.

Only the member who sent the report hears of it in their chat: a notice is a personal message,
and a reply to it is written on the thread as that member. Reports sent through an API token
(no person behind them) or by a member who is not linked are told by webhook and the portal only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from tanggap.auth.models import Principal
from tanggap.db.wake import BOT_NOTICES, wake
from tanggap.flaggers.models import FlaggerOrg, TelegramLink
from tanggap.flaggers.telegram_ids import LinkKeys, SealBroken
from tanggap.notify.chat import BotReply, BotSender
from tanggap.notify.models import BotNotice
from tanggap.notify.port import CaseAlert, DecisionTaken, ReportChange
from tanggap.notify.webhooks import ReportDescriber
from tanggap.outbox import DeliveryRefused, DeliveryState, Sent, backoff, head_of_line

log = structlog.get_logger(__name__)
BACKOFF_CAP = timedelta(minutes=10)
# A chat is read by a person, and Telegram lets a bot send about one message a second into it:
# only what the member must act on or wants to know is told there (the outcome, an objection, a
# reversal, a message). Received is in the answer to the submission; the queue steps (triaged,
# in review) are in the portal and the webhooks, and a bulk submission would flood the chat.
TOLD_EVENTS = frozenset(
    {
        "report.actioned",
        "report.declined",
        "report.objected",
        "report.decision_reversed",
        "report.message",
    }
)
STATUS_WORDS = {
    "en": {
        "received": "received",
        "triaged": "in the review queue",
        "in_review": "in review",
        "actioned": "actioned",
        "declined": "declined",
        "objected": "objected to by the platform",
    },
    "id": {
        "received": "diterima",
        "triaged": "dalam antrean peninjauan",
        "in_review": "sedang ditinjau",
        "actioned": "ditindak",
        "declined": "ditolak",
        "objected": "disanggah oleh platform",
    },
}
WORDS = {
    "en": {
        "report": "Report {ref}",
        "status": "Status: {status}.",
        "outcome": "Outcome: {outcome}. {explanation}",
        "objection": "The platform's objection: {objection}",
        "reversed": "The decision on this report was reversed on appeal.",
        "message": "Message from the platform:",
        "reply": "Reply to this message to answer on the report's thread.",
    },
    "id": {
        "report": "Laporan {ref}",
        "status": "Status: {status}.",
        "outcome": "Hasil: {outcome}. {explanation}",
        "objection": "Sanggahan platform: {objection}",
        "reversed": "Keputusan atas laporan ini dibatalkan melalui banding.",
        "message": "Pesan dari platform:",
        "reply": "Balas pesan ini untuk menjawab di utas laporan.",
    },
}


OUTCOME_WORDS = {
    "en": {
        "remove": "removed",
        "geo_restrict": "restricted in some countries",
        "ban_channel": "channel banned",
        "ban_member": "removed, and its author banned from the group",
        "no_violation": "no violation found",
    },
    "id": {
        "remove": "dihapus",
        "geo_restrict": "dibatasi di beberapa negara",
        "ban_channel": "kanal diblokir",
        "ban_member": "dihapus, dan pengirimnya diblokir dari grup",
        "no_violation": "tidak ada pelanggaran",
    },
}


def notice_text(change: ReportChange, report: Mapping[str, Any], language: str) -> str:
    """Write what a member reads of a change to their report, in ``language``."""
    words = WORDS.get(language, WORDS["en"])
    statuses = STATUS_WORDS.get(language, STATUS_WORDS["en"])
    target = report.get("target") or {}
    lines = [words["report"].format(ref=report["report_id"]), str(target.get("url", ""))]
    if change.message is not None:
        lines += [words["message"], change.message.body, "", words["reply"]]
        return "\n".join(lines)
    if change.event == "report.decision_reversed":
        lines.append(words["reversed"])
    status = str(report.get("status", ""))
    lines.append(words["status"].format(status=statuses.get(status, status)))
    if report.get("outcome") and status in ("actioned", "declined"):
        lines.append(
            words["outcome"]
            .format(
                outcome=OUTCOME_WORDS.get(language, OUTCOME_WORDS["en"]).get(
                    str(report["outcome"]), str(report["outcome"])
                ),
                explanation=report.get("explanation") or "",
            )
            .strip()
        )
    if status == "objected" and report.get("objection"):
        lines += [words["objection"].format(objection=report["objection"]), "", words["reply"]]
    return "\n".join(lines)


class BotNotifier:
    """Queues bot notices to linked members in the caller's transaction (the ``Notifier`` port)."""

    def __init__(self, describe_report: ReportDescriber):
        self.describe_report = describe_report

    def report_changed(self, *, session: Session, change: ReportChange) -> None:
        """Queue a notice when the member who sent the report is linked."""
        self.reports_changed(session=session, changes=[change])

    def reports_changed(self, *, session: Session, changes: Sequence[ReportChange]) -> None:
        """Queue a notice for each change whose sender is a linked member."""
        wanted = [change for change in changes if _worth_telling(change)]
        senders = {change.submitted_by for change in wanted if change.submitted_by is not None}
        if not senders:
            return
        languages = dict(
            session.execute(
                select(TelegramLink.principal_id, FlaggerOrg.language)
                .join(Principal, Principal.id == TelegramLink.principal_id)
                .join(FlaggerOrg, FlaggerOrg.id == Principal.org_id)
                .where(TelegramLink.principal_id.in_(senders))
                .where(Principal.disabled_at.is_(None), FlaggerOrg.disabled_at.is_(None))
            ).all()
        )
        told = [change for change in wanted if change.submitted_by in languages]
        if not told:
            return
        described = self.describe_report(session, [change.report_id for change in told])
        for change, report in zip(told, described, strict=True):
            assert change.submitted_by is not None
            session.add(
                BotNotice(
                    principal_id=change.submitted_by,
                    report_id=change.report_id,
                    event=change.event,
                    text=notice_text(change, report, languages[change.submitted_by]),
                )
            )
        wake(session, BOT_NOTICES)

    def case_escalated(self, *, session: Session, alert: CaseAlert) -> None:
        """Leads hear of escalations by webhook, not through the flaggers' bot."""

    def checkpoint_signed(self, *, session: Session, checkpoint: dict[str, object]) -> None:
        """Audit checkpoints go by webhook, not through the flaggers' bot."""

    def decision_taken(self, *, session: Session, decision: DecisionTaken) -> None:
        """A decision reaches the flaggers through their reports' changes, not by itself."""


def _worth_telling(change: ReportChange) -> bool:
    if change.event not in TOLD_EVENTS:
        return False
    # The member's own messages on the thread are not told back to them.
    return change.message is None or change.message.author_role != "flagger"


def report_of_reply(
    *, session: Session, principal_id: uuid.UUID, link_id: uuid.UUID, message_id: int
) -> uuid.UUID | None:
    """Return the report of the notice a member replied to (sent through their current link),
    or None when the message is not one."""
    return session.execute(
        select(BotNotice.report_id)
        .where(BotNotice.principal_id == principal_id)
        .where(BotNotice.link_id == link_id)
        .where(BotNotice.sent_message_id == message_id)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Notice:
    """One claimed notice: the link it goes through and that link's sealed chat id (None when
    the member unlinked since), and its text."""

    id: uuid.UUID
    link_id: uuid.UUID | None
    sealed_chat_id: str | None
    text: str


@dataclass
class BotNoticeDelivery:
    """The outbox kind of bot notices: oldest first and one at a time per report, so a report's
    notices arrive in order; given up after a while."""

    sender: BotSender
    # Open the member's chat id, sealed in their link, only to send.
    link_keys: LinkKeys
    retry_seconds: float
    give_up_after: timedelta
    # The message id of each notice sent in this round, recorded with its delivery.
    sent_ids: dict[uuid.UUID, tuple[uuid.UUID, int]] = field(default_factory=dict)

    @property
    def model(self) -> type[BotNotice]:
        """The bot notices table."""
        return BotNotice

    @property
    def lease(self) -> timedelta:
        """Longer than sending a claimed batch can take."""
        return timedelta(minutes=5)

    def eligible(self) -> Sequence[ColumnElement[bool]]:
        """Head of line per report."""
        return (head_of_line(BotNotice, "report_id"),)

    def prepare(self, session: Session, rows: list[Any]) -> list[Notice]:
        """Each notice with its member's current link and the link's sealed chat."""
        links = {
            principal_id: (link_id, sealed_chat_id)
            for principal_id, link_id, sealed_chat_id in session.execute(
                select(TelegramLink.principal_id, TelegramLink.id, TelegramLink.sealed_chat_id)
                .join(Principal, Principal.id == TelegramLink.principal_id)
                .join(FlaggerOrg, FlaggerOrg.id == Principal.org_id)
                .where(TelegramLink.principal_id.in_({row.principal_id for row in rows}))
                # A member or organisation disabled meanwhile hears nothing more.
                .where(Principal.disabled_at.is_(None), FlaggerOrg.disabled_at.is_(None))
            )
        }
        claimed = []
        for row in rows:
            link_id, sealed_chat_id = links.get(row.principal_id, (None, None))
            claimed.append(Notice(row.id, link_id, sealed_chat_id, row.text))
        return claimed

    def send(self, item: Notice) -> Sent:
        """Send the notice into the member's chat."""
        if item.sealed_chat_id is None or item.link_id is None:
            raise DeliveryRefused(
                "the member's Telegram account is no longer linked, or the member is disabled"
            )
        try:
            chat_id = self.link_keys.open_chat(link_id=item.link_id, sealed=item.sealed_chat_id)
        except SealBroken:
            # Sending again cannot open it: the member links again from the portal.
            raise DeliveryRefused(
                "the member's link does not open (sealed for another link or under another "
                "secret key): the member must link their Telegram account again"
            ) from None
        message_id = self.sender.send_message(BotReply(chat_id=chat_id, text=item.text))
        self.sent_ids[item.id] = (item.link_id, message_id)
        return Sent(ok=True)

    def retry_at(self, row: Any, now: datetime) -> datetime | None:
        """Doubling waits from ``retry_seconds``; give up ``give_up_after`` the change."""
        if now - row.created_at >= self.give_up_after:
            return None
        return now + backoff(row.attempts, self.retry_seconds, BACKOFF_CAP)

    def delivered(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Keep the link and the message id, so that a reply finds its report."""
        row.link_id, row.sent_message_id = self.sent_ids.pop(row.id)

    def failed(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Say so when a notice is given up (no Telegram id, no text in the log)."""
        if row.state == DeliveryState.FAILED:
            log.warning("bot_notice.gave_up", notice_id=str(row.id), error=sent.error)

    def counted(self, item: Notice, sent: Sent) -> None:
        """Bot notices have no metric of their own."""
