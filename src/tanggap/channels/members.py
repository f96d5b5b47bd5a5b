"""Members of Telegram groups whose id Tanggap keeps sealed, to ban them when a decision says so.
The sealed id never leaves this table but towards the Telegram adapter: it is not logged,
audited or shown."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.channels.models import TelegramMember
from tanggap.pseudonyms import DEFAULT_KEY_ID


def keep(
    *,
    session: Session,
    chat_ref: str,
    author_ref: str,
    sealed_id: str,
    seen_at: datetime,
    key_id: str = DEFAULT_KEY_ID,
) -> None:
    """Record that ``author_ref`` posted in the chat ``chat_ref``, with their id sealed afresh."""
    member = sealed_member(session=session, chat_ref=chat_ref, author_ref=author_ref)
    if member is None:
        session.add(
            TelegramMember(
                chat_ref=chat_ref,
                author_ref=author_ref,
                key_id=key_id,
                sealed_id=sealed_id,
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        )
    else:
        member.sealed_id = sealed_id
        member.last_seen_at = max(member.last_seen_at, seen_at)
    session.flush()


def sealed_member(*, session: Session, chat_ref: str, author_ref: str) -> TelegramMember | None:
    """Return the member ``author_ref`` of the chat ``chat_ref``, or None when unknown."""
    return session.execute(
        select(TelegramMember)
        .where(TelegramMember.chat_ref == chat_ref)
        .where(TelegramMember.author_ref == author_ref)
    ).scalar_one_or_none()
