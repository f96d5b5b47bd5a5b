"""Import every table so that ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from tanggap.actions.models import Action
from tanggap.audit.models import AuditChainHead, AuditEvent
from tanggap.auth.models import ApiToken, Principal
from tanggap.cases.models import Case, Decision
from tanggap.channels.models import Channel
from tanggap.db.base import Base
from tanggap.flaggers.models import FlaggerOrg
from tanggap.idempotency.models import IdempotencyRecord
from tanggap.platform.models import Restriction
from tanggap.posts.models import Post, PostMedia
from tanggap.reports.models import Report

__all__ = [
    "Action",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Case",
    "Channel",
    "Decision",
    "FlaggerOrg",
    "IdempotencyRecord",
    "Post",
    "PostMedia",
    "Principal",
    "Report",
    "Restriction",
]
