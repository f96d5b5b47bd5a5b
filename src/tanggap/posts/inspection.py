"""The port through which detection sees every stored or edited post (called inside the ingest
transaction), and what it hands back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

from tanggap.posts.models import Post


@dataclass(frozen=True)
class Inspection:
    """What looking at a post queued: the actions an automatic decision put in the outbox,
    delivered once the ingest transaction commits."""

    queued_actions: tuple[uuid.UUID, ...] = field(default=())


class PostInspector(Protocol):
    """Looks at a post right after it was stored or edited, inside the ingest transaction."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> Inspection:
        """Examine ``post``; may set its language, store signals, open cases, decide them."""


class NoInspection:
    """An inspector that looks at nothing (ingest without detection, as benchmarks measure)."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> Inspection:
        """Do nothing."""
        return Inspection()


@dataclass(frozen=True)
class Waiting:
    """An image sent with a post, waiting for its PDQ hash: the stored media row, and the bytes
    (kept in memory only)."""

    media_id: int
    data: bytes
