"""The port through which detection sees every stored or edited post (called inside the ingest
transaction), and what it hands back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

from tanggap.posts.models import Post
from tanggap.posts.schemas import PostIn


@dataclass(frozen=True)
class Inspection:
    """What looking at a post queued: the actions an automatic decision put in the outbox,
    delivered once the ingest transaction commits."""

    queued_actions: tuple[uuid.UUID, ...] = field(default=())


@dataclass(frozen=True)
class Screening:
    """What detection made of a new post before it is stored (batch ingest): its language,
    whether it may act (open a case, decide one: then the post is stored and inspected on its
    own, the exact way), and what detection stores with it once it has an id (its own)."""

    language: str | None
    acts: bool
    findings: object = None


class PostInspector(Protocol):
    """Looks at a post right after it was stored or edited, inside the ingest transaction;
    new posts of a batch are screened before they are stored, and recorded after."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> Inspection:
        """Examine ``post``; may set its language, store signals, open cases, decide them."""

    def screen(self, *, session: Session, posts: Sequence[PostIn]) -> list[Screening]:
        """Examine new posts not yet stored, changing nothing; one screening each."""

    def record(
        self, *, session: Session, stored: Sequence[tuple[int, Screening]]
    ) -> dict[int, tuple[uuid.UUID, ...]]:
        """Store what the screenings found on the posts now stored (post id, screening): only
        posts whose screening does not act come here. Return the actions queued meanwhile (what
        detection learnt since the screening made a post act after all), by post id."""


class NoInspection:
    """An inspector that looks at nothing (ingest without detection, as benchmarks measure)."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> Inspection:
        """Do nothing."""
        return Inspection()

    def screen(self, *, session: Session, posts: Sequence[PostIn]) -> list[Screening]:
        """Find nothing."""
        return [Screening(language=None, acts=False) for _ in posts]

    def record(
        self, *, session: Session, stored: Sequence[tuple[int, Screening]]
    ) -> dict[int, tuple[uuid.UUID, ...]]:
        """Store nothing."""
        return {}


@dataclass(frozen=True)
class Waiting:
    """An image sent with a post, waiting for its PDQ hash: the stored media row, and the bytes
    (kept in memory only)."""

    media_id: int
    data: bytes
