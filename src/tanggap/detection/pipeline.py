"""The detection pipeline run on every ingested post."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tanggap.detection.engine.language import detect_language
from tanggap.posts.models import Post


class DetectionPipeline:
    """Inspects new and edited posts: for now, the language of their text."""

    def inspect(self, *, session: Session, post: Post, created: bool) -> None:
        """Detect the post's language (used to route its case to reviewers who read it)."""
        post.language = detect_language(post.text)
