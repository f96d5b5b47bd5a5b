"""Members' Telegram accounts for the flaggers' bot: one-time link codes, links, unlinking, and
the links a member sent without a category, held until they choose one."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth.models import Principal
from tanggap.auth.schemas import Caller
from tanggap.db.base import new_id, rowcount, utcnow
from tanggap.errors import Forbidden, InvalidInput, NotFound
from tanggap.flaggers.models import BotSubmission, FlaggerOrg, TelegramLink, TelegramLinkCode
from tanggap.flaggers.telegram_ids import LinkKeys

CODE_LIFETIME = timedelta(minutes=15)
HELD_LIFETIME = timedelta(hours=1)
# No 0/O or 1/I: a code is read off a screen and typed.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class CodeRefused(InvalidInput):
    """A link code that is wrong, used already, or expired; ``reason`` says which of
    ``unknown`` (wrong or used: nothing tells them apart once a code is used) and ``expired``."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, field="code")
        self.reason = reason


@dataclass(frozen=True)
class LinkedMember:
    """A member whose Telegram account is linked, as the bot needs them: who they are, their
    organisation's language, the link the bot reaches them through (its chat id stays sealed)."""

    principal_id: uuid.UUID
    name: str
    org_id: uuid.UUID
    org_name: str
    language: str
    link_id: uuid.UUID

    @property
    def caller(self) -> Caller:
        """Return the member as a caller of the domain services."""
        return Caller(id=self.principal_id, role="flagger", name=self.name, org_id=self.org_id)


@dataclass(frozen=True)
class LinkState:
    """What the portal shows of a member's link: since when, and whether a code is waiting."""

    linked_at: datetime | None
    code_expires_at: datetime | None


def hash_code(code: str) -> str:
    """Return the SHA-256 of a code as typed, read leniently (case, spaces and dashes)."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


def issue_code(*, session: Session, principal_id: uuid.UUID, now: datetime | None = None) -> str:
    """Give a member a fresh link code (replacing any earlier one); return it, shown once."""
    now = now or utcnow()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.execute(delete(TelegramLinkCode).where(TelegramLinkCode.principal_id == principal_id))
    session.add(
        TelegramLinkCode(
            principal_id=principal_id,
            code_hash=hash_code(code),
            expires_at=now + CODE_LIFETIME,
            created_at=now,
        )
    )
    session.flush()
    return code


def state_of(
    *, session: Session, principal_id: uuid.UUID, now: datetime | None = None
) -> LinkState:
    """Return whether a member is linked, and until when their waiting code holds."""
    now = now or utcnow()
    link = session.execute(
        select(TelegramLink).where(TelegramLink.principal_id == principal_id)
    ).scalar_one_or_none()
    code = session.get(TelegramLinkCode, principal_id)
    waiting = code.expires_at if code is not None and code.expires_at > now else None
    return LinkState(linked_at=link.linked_at if link else None, code_expires_at=waiting)


def redeem(
    *,
    session: Session,
    keys: LinkKeys,
    code: str,
    telegram_user_id: int,
    chat_id: int,
    now: datetime | None = None,
) -> LinkedMember:
    """Link the Telegram account that sent ``code`` to the code's member, once; a link of that
    member or of that account elsewhere moves here. Raise CodeRefused, having changed nothing."""
    now = now or utcnow()
    digest = keys.user_digest(telegram_user_id)
    waiting = session.execute(
        select(TelegramLinkCode).where(TelegramLinkCode.code_hash == hash_code(code))
    ).scalar_one_or_none()
    if waiting is None:
        raise CodeRefused(
            "this code is wrong or was used already: get a new one in the portal", reason="unknown"
        )
    if waiting.expires_at <= now:
        raise CodeRefused("this code has expired: get a new one in the portal", reason="expired")
    principal_id = waiting.principal_id
    if not _enabled(session, principal_id):
        raise CodeRefused("this account may not use the bot", reason="disabled")
    # Conditional: of two messages carrying the same code, one links and the other is refused.
    used = session.execute(
        delete(TelegramLinkCode)
        .where(TelegramLinkCode.principal_id == principal_id)
        .where(TelegramLinkCode.code_hash == waiting.code_hash)
    )
    if rowcount(used) != 1:
        raise CodeRefused(
            "this code is wrong or was used already: get a new one in the portal", reason="unknown"
        )
    earlier = list(
        session.execute(
            select(TelegramLink).where(
                or_(
                    TelegramLink.principal_id == principal_id,
                    TelegramLink.user_digest == digest,
                )
            )
        ).scalars()
    )
    for link in earlier:
        session.delete(link)
    session.flush()
    link_id = new_id()
    link = TelegramLink(
        id=link_id,
        principal_id=principal_id,
        user_digest=digest,
        sealed_chat_id=keys.seal_chat(link_id=link_id, chat_id=chat_id),
    )
    session.add(link)
    session.flush()
    audit.record(
        session=session,
        actor=f"flagger:{principal_id}",
        action="telegram.linked",
        subject_type="principal",
        subject_id=principal_id,
        # Never the Telegram id: the audit log outlives the link.
        data={
            "relinked": any(old.principal_id == principal_id for old in earlier),
            "moved_from": [
                str(old.principal_id) for old in earlier if old.principal_id != principal_id
            ],
        },
    )
    member = member_of(session=session, keys=keys, telegram_user_id=telegram_user_id)
    assert member is not None  # enabled, checked above
    return member


def _enabled(session: Session, principal_id: uuid.UUID) -> bool:
    """Tell whether a flagger member and their organisation may still act."""
    return (
        session.execute(
            select(Principal.id)
            .join(FlaggerOrg, FlaggerOrg.id == Principal.org_id)
            .where(Principal.id == principal_id, Principal.role == "flagger")
            .where(Principal.disabled_at.is_(None), FlaggerOrg.disabled_at.is_(None))
        ).first()
        is not None
    )


def unlink(*, session: Session, principal_id: uuid.UUID, actor: str) -> bool:
    """Delete a member's link (and their Telegram ids with it); return whether there was one."""
    removed = rowcount(
        session.execute(delete(TelegramLink).where(TelegramLink.principal_id == principal_id))
    )
    session.execute(delete(BotSubmission).where(BotSubmission.principal_id == principal_id))
    if removed:
        audit.record(
            session=session,
            actor=actor,
            action="telegram.unlinked",
            subject_type="principal",
            subject_id=principal_id,
            data={},
        )
    return bool(removed)


def member_of(*, session: Session, keys: LinkKeys, telegram_user_id: int) -> LinkedMember | None:
    """Return the enabled member linked to a Telegram account, or None."""
    row = session.execute(
        select(TelegramLink, Principal, FlaggerOrg)
        .join(Principal, Principal.id == TelegramLink.principal_id)
        .join(FlaggerOrg, FlaggerOrg.id == Principal.org_id)
        .where(TelegramLink.user_digest == keys.user_digest(telegram_user_id))
        .where(Principal.role == "flagger")
        .where(Principal.disabled_at.is_(None), FlaggerOrg.disabled_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    link, principal, org = row
    return LinkedMember(
        principal_id=principal.id,
        name=principal.name,
        org_id=org.id,
        org_name=org.name,
        language=org.language,
        link_id=link.id,
    )


def hold_links(
    *, session: Session, member: LinkedMember, links: list[str], now: datetime | None = None
) -> uuid.UUID:
    """Keep a member's links until they choose a category; return what the choice names."""
    now = now or utcnow()
    # Holds nobody pressed for are of no use any more: each member clears theirs as they go.
    session.execute(
        delete(BotSubmission)
        .where(BotSubmission.principal_id == member.principal_id)
        .where(BotSubmission.expires_at <= now)
    )
    held = BotSubmission(
        principal_id=member.principal_id,
        links="\n".join(links),
        created_at=now,
        expires_at=now + HELD_LIFETIME,
    )
    session.add(held)
    session.flush()
    return held.id


def take_links(
    *,
    session: Session,
    member: LinkedMember,
    submission_id: uuid.UUID,
    now: datetime | None = None,
) -> list[str]:
    """Return the links held for ``member`` under ``submission_id``, once: a second press or an
    expired hold finds nothing (NotFound), another member's is refused (Forbidden)."""
    now = now or utcnow()
    held = session.get(BotSubmission, submission_id)
    if held is None or held.expires_at <= now:
        raise NotFound("these links were sent already, or waited too long", field="submission")
    if held.principal_id != member.principal_id:
        raise Forbidden("these links were sent by another member", field="submission")
    links = held.links.split("\n")
    taken = session.execute(
        delete(BotSubmission)
        .where(BotSubmission.id == submission_id)
        .where(BotSubmission.principal_id == member.principal_id)
    )
    if rowcount(taken) != 1:  # pressed twice at once: the other press took them
        raise NotFound("these links were sent already", field="submission")
    return links
