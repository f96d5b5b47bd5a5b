"""HTTP: what detection found on a post."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from tanggap.api.deps import SessionDep, Staff
from tanggap.detection import service as detection
from tanggap.errors import NotFound
from tanggap.posts import service as posts
from tanggap.validation import Handle

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
    channel: Handle, message_id: int, session: SessionDep, caller: Staff
) -> list[SignalOut]:
    """List a post's signals, strongest first."""
    post = posts.get(session=session, handle=channel, message_id=message_id)
    if post is None:
        raise NotFound(f"no post {posts.post_url(channel, message_id)}", field="message_id")
    return [
        SignalOut(
            kind=s.kind, source=s.source, score=s.score, detail=s.detail, created_at=s.created_at
        )
        for s in detection.signals_of(session=session, post_id=post.id)
    ]
