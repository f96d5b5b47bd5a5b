"""The seam through which detection (language, rules, hash banks, classifiers) sees new posts."""

from __future__ import annotations

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
