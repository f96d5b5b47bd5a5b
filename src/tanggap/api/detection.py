"""HTTP: what detection found on a post."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from tanggap.auth.schemas import Caller
from tanggap.detection import scans
from tanggap.detection import service as detection
from tanggap.detection.rules_live import LiveRules
from tanggap.errors import InvalidInput, NotFound
from tanggap.http.deps import RuntimeDep, SessionDep, Staff, require
from tanggap.http.openapi import answers
from tanggap.posts import service as posts
from tanggap.reports import service as reports
from tanggap.validation import Handle, MessageId

router = APIRouter(tags=["detection"])


class SignalOut(BaseModel):
    """One signal: what matched, by what, how close."""

    kind: str
    source: str
    score: float
    detail: dict[str, Any]
    created_at: datetime


@router.get("/v1/posts/{channel}/{message_id}/signals", response_model=list[SignalOut])
def post_signals(
    channel: Handle,
    message_id: MessageId,
    session: SessionDep,
    caller: Staff,
    runtime: RuntimeDep,
) -> list[SignalOut]:
    """List a post's signals, strongest first (a post whose case or reports are in a category
    you are not cleared for is not found)."""
    post = posts.get(session=session, handle=channel, message_id=message_id)
    hidden = reports.hidden_categories(session=session, caller=caller, policy=runtime.policy)
    if post is None or reports.post_hidden(session=session, post_id=post.id, hidden=hidden):
        raise NotFound(f"no post {posts.post_url(channel, message_id)}", field="message_id")
    return [
        SignalOut(
            kind=s.kind, source=s.source, score=s.score, detail=s.detail, created_at=s.created_at
        )
        for s in detection.signals_of(session=session, post_id=post.id)
    ]


class RuleOut(BaseModel):
    """One rule in force."""

    id: str
    category: str
    language: str | None
    effect: str
    keywords: int
    regex: int
    domains: int


class RulesOut(BaseModel):
    """The rules in force and the files they came from."""

    rules: list[RuleOut]
    files: list[str]
    last_error: str | None
    scan_id: uuid.UUID | None = Field(
        default=None,
        description="The scan of the stored posts queued for new or changed rules, if any",
    )


Admin = Annotated[Caller, Depends(require("admin"))]


def rules_out(live: LiveRules) -> RulesOut:
    """Shape the rules in force."""
    current = live.current
    return RulesOut(
        rules=[
            RuleOut(
                id=r.id,
                category=r.category,
                language=r.language,
                effect=r.effect.kind,
                keywords=len(r.keywords),
                regex=len(r.regex),
                domains=len(r.domains),
            )
            for r in current.rules
        ],
        files=current.sources,
        last_error=live.last_error,
    )


@router.get("/v1/rules", response_model=RulesOut)
def list_rules(caller: Staff, runtime: RuntimeDep) -> RulesOut:
    """The rules in force (and why the last reload was refused, if it was)."""
    return rules_out(runtime.rules)


@router.post("/v1/rules/reload", response_model=RulesOut, responses=answers(InvalidInput))
def reload_rules(caller: Admin, runtime: RuntimeDep, session: SessionDep) -> RulesOut:
    """Reload the rule files now; a broken file is refused with its line and the rules in force
    stay. New or changed rules queue a scan of the posts already stored."""
    outcome = runtime.rules.reload(session)  # the version commits with the answer
    if outcome.error:
        raise InvalidInput(f"rules not reloaded: {outcome.error}", field="rules")
    job = scans.sync_rules(
        session=session, rules=runtime.rules.current.rules, actor=caller.audit_actor
    )
    session.commit()
    found = rules_out(runtime.rules)
    found.scan_id = job.id if job is not None else None
    return found
