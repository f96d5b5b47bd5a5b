"""Every table of Tanggap, imported so that ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from tanggap.actions.models import Action
from tanggap.appeals.models import Appeal
from tanggap.audit.models import AuditChainHead, AuditEvent
from tanggap.auth.models import ApiToken, Principal, WebSession
from tanggap.banks.models import Bank, BankEntry, BankRemoval
from tanggap.builtin_pages.models import Restriction
from tanggap.cases.models import Case, Decision, NearDuplicate
from tanggap.channels.models import Channel, TelegramMember
from tanggap.db.base import Base
from tanggap.detection.models import (
    FingerprintBand,
    PostFingerprint,
    RuleSetVersion,
    RuleVersion,
    ScanJob,
    Signal,
)
from tanggap.eu_database.models import EuStatement
from tanggap.flaggers.models import BotSubmission, FlaggerOrg, TelegramLink, TelegramLinkCode
from tanggap.heartbeats.models import JobHeartbeat
from tanggap.idempotency.models import IdempotencyRecord
from tanggap.legal.models import LegalDocument, LegalInstruction, LegalLetter, LegalRequest
from tanggap.notify.models import BotNotice, DeliveryAttempt, Notification
from tanggap.posts.models import Post, PostMedia, PseudonymLink
from tanggap.reports.models import Report, ReportMessage
from tanggap.reviewers.models import ReviewerClearance, ReviewerLanguage

__all__ = [
    "Action",
    "ApiToken",
    "Appeal",
    "AuditChainHead",
    "AuditEvent",
    "Bank",
    "BankEntry",
    "BankRemoval",
    "Base",
    "BotNotice",
    "BotSubmission",
    "Case",
    "Channel",
    "Decision",
    "DeliveryAttempt",
    "EuStatement",
    "FingerprintBand",
    "FlaggerOrg",
    "IdempotencyRecord",
    "JobHeartbeat",
    "LegalDocument",
    "LegalInstruction",
    "LegalLetter",
    "LegalRequest",
    "NearDuplicate",
    "Notification",
    "Post",
    "PostFingerprint",
    "PostMedia",
    "Principal",
    "PseudonymLink",
    "Report",
    "ReportMessage",
    "Restriction",
    "ReviewerClearance",
    "ReviewerLanguage",
    "RuleSetVersion",
    "RuleVersion",
    "ScanJob",
    "Signal",
    "TelegramLink",
    "TelegramLinkCode",
    "TelegramMember",
    "WebSession",
]
