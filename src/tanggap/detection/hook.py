"""The seam through which detection (language, rules, hash banks, classifiers) sees new posts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from tanggap.posts.models import Post


class PostInspector(Protocol):
    """Looks at a post right after it was stored or edited, inside the ingest transaction."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> None:
        """Examine ``post``; may set its language, store signals or open cases."""


class NoInspection:
    """The inspector used until a detection pipeline is configured: it looks at nothing."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> None:
        """Do nothing."""
        return None


@dataclass(frozen=True)
class Waiting:
    """An image sent with a post, waiting for its PDQ hash: the stored media row, and the bytes
    (kept in memory only)."""

    media_id: int
    data: bytes
