"""Erasure in and out."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StrictStr, WithJsonSchema, field_validator

from tanggap.validation import Input, short_id


class ErasureIn(Input):
    """The platform asks that one of its users' personal data be erased."""

    # The platform's own id of the user, as it sends ``author_id`` with posts; turned into the
    # user's pseudonyms at once and never stored.
    # Written as the platform writes it in a post's ``author_id`` (text or a number), and read
    # the same way, so that it finds the same pseudonyms.
    platform_user_id: Annotated[
        StrictStr | StrictInt,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"\S"},
                    {"type": "integer"},
                ]
            }
        ),
    ] = Field(union_mode="left_to_right")

    @field_validator("platform_user_id")
    @classmethod
    def _platform_user_id_text(cls, value: str | int) -> str:
        return short_id(value, "platform_user_id")


class ErasureOut(BaseModel):
    """What the erasure found and did, in counts."""

    erasure_id: str
    posts_erased: int
    posts_kept_as_evidence: int = Field(
        description="posts a case or a standing decision still needs (docs/retention.md)"
    )
    appeal_reasons: int
    report_notes: int
    telegram_members: int
    pseudonym_links: int
