"""Erasure of one author's personal data, when the platform asks (GDPR Art. 17).

The platform sends the raw user id; Tanggap turns it into the author's pseudonym under every key
of the ring (never storing the id) and erases what it holds of that person:

- their posts' text, media links and media hashes, what detection derived from the text (the
  MinHash fingerprint and its bands, the words a rule matched), and the posts' link to them (a
  fresh, unlinkable pseudonym) — except a post that is **evidence**: its case is still being
  handled, or a decision restricting it (remove, geo-restrict, ban) stands, on its own case or
  on a case it was attached to as a copy. Those are kept as they are: the decision, its
  statement of reasons and the appeal that may still come need them (GDPR Art. 17(3)(b), DSA
  Art. 17 and 20);
- the free text of appeals against decisions on the posts erased;
- the notes of the reports they sent as a platform user, and those reports' link to them;
- their sealed Telegram ids (``telegram_members``) and the links between their pseudonyms.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from tanggap.appeals.models import Appeal, AppealState
from tanggap.audit import service as audit
from tanggap.audit.chain import PURGED_TEXT
from tanggap.audit.purge import purge_texts
from tanggap.cases.models import Case, Decision, DecisionState, NearDuplicate
from tanggap.cases.states import CaseState
from tanggap.channels.models import TelegramMember
from tanggap.db.base import new_id, rowcount, utcnow
from tanggap.detection.models import FingerprintBand, PostFingerprint, Signal
from tanggap.posts.authors import all_refs
from tanggap.posts.models import Post, PostMedia, PseudonymLink
from tanggap.pseudonyms import Keyring
from tanggap.reports.models import Report

# The fields of a signal's detail that quote the post or point at the content it copied.
QUOTING_SIGNALS = {"rule": ("matched",), "near_duplicate": ("of",)}
# Outcomes that restrict a post: while one stands, the post is evidence.
RESTRICTING = ("remove", "geo_restrict", "ban_channel", "ban_member")


@dataclass(frozen=True)
class Erased:
    """What one erasure did, in counts (never the id, never a pseudonym)."""

    erasure_id: str
    posts_erased: int
    posts_kept_as_evidence: int
    appeal_reasons: int
    report_notes: int
    telegram_members: int
    pseudonym_links: int


def _standing_restriction(case_id: Any) -> ColumnElement[bool]:
    reversed_on_appeal = exists().where(
        and_(Appeal.appealed_decision_id == Decision.id, Appeal.state == AppealState.REVERSED)
    )
    return exists().where(
        Decision.case_id == case_id,
        Decision.state == DecisionState.FINAL,
        Decision.outcome.in_(RESTRICTING),
        ~reversed_on_appeal,
    )


def _evidence() -> ColumnElement[bool]:
    """A post that a decision or a case still needs (the rule in the module's docstring)."""
    own = exists().where(
        Case.post_id == Post.id,
        or_(Case.state != CaseState.DECIDED, _standing_restriction(Case.id)),
    )
    copy = exists().where(
        NearDuplicate.post_id == Post.id, _standing_restriction(NearDuplicate.case_id)
    )
    return or_(own, copy)


def _cases_of(posts: list[int]) -> Select[uuid.UUID]:
    return select(Case.id).where(Case.post_id.in_(posts))


def _write(session: Session, statement: Any) -> int:
    """Run a bulk ``UPDATE`` or ``DELETE`` (no ORM object kept in step); return its row count."""
    return rowcount(session.execute(statement, execution_options={"synchronize_session": False}))


def _erase_derived(session: Session, erased: list[int]) -> None:
    """Erase what was derived from the erased posts' text and images: media links and hashes
    (an image still waiting to be hashed no longer is), fingerprints and their bands, the words
    rules matched and the links to removed content they copied (the signal, its rule and score
    stay for the counts), and the explanations of the decisions on their cases, which may quote
    them (outcome and ground stay)."""
    _write(
        session,
        update(PostMedia)
        .where(PostMedia.post_id.in_(erased))
        .values(url=None, sha256=None, md5=None, pdq=None, pdq_quality=None, pdq_pending=False),
    )
    _write(
        session,
        update(Decision)
        .where(Decision.case_id.in_(_cases_of(erased)))
        .where(Decision.explanation != PURGED_TEXT)
        .values(explanation=PURGED_TEXT),
    )
    for model in (FingerprintBand, PostFingerprint):
        _write(
            session,
            delete(model).where(model.post_id.in_(erased)),
        )
    # The post's links to removed content it copied (none is applied: it would be evidence).
    _write(
        session,
        delete(NearDuplicate).where(NearDuplicate.post_id.in_(erased)),
    )
    quoting = session.execute(
        select(Signal).where(Signal.post_id.in_(erased), Signal.kind.in_(QUOTING_SIGNALS))
    ).scalars()
    for signal in quoting:
        signal.detail = {
            key: PURGED_TEXT if key in QUOTING_SIGNALS[signal.kind] else value
            for key, value in signal.detail.items()
        }
    session.flush()


def erase_author(
    *, session: Session, keyring: Keyring, platform_user_id: str, actor: str
) -> Erased:
    """Erase what Tanggap holds of the platform user ``platform_user_id`` (looked for under
    every key of the ring), in the caller's transaction; audited with counts only. Erasing the
    same user again finds nothing left and answers zeros."""
    refs = all_refs(session=session, refs=keyring.refs(platform_user_id).values())
    evidence = _evidence()
    theirs = Post.author_ref.in_(refs)
    kept = list(session.execute(select(Post.id).where(theirs, evidence)).scalars())
    erased = list(session.execute(select(Post.id).where(theirs, ~evidence)).scalars())
    for post_id in erased:
        _write(
            session,
            update(Post)
            .where(Post.id == post_id)
            .values(text=PURGED_TEXT, author_ref=f"erased:{secrets.token_hex(16)}"),
        )
    appeals = 0
    if erased:
        _erase_derived(session, erased)
        appeals = _write(
            session,
            update(Appeal)
            .where(Appeal.case_id.in_(_cases_of(erased)))
            .where(Appeal.reason != PURGED_TEXT)
            .values(reason=PURGED_TEXT),
        )
    reported = list(
        session.execute(select(Report.id).where(Report.reporter_ref.in_(refs))).scalars()
    )
    if reported:
        _write(
            session,
            update(Report)
            .where(Report.id.in_(reported))
            .values(note=PURGED_TEXT, reporter_ref=None, key_id=None),
        )
        purge_texts(session=session, now=utcnow(), subject_ids=[str(r) for r in reported])
    members = _write(
        session,
        delete(TelegramMember).where(TelegramMember.author_ref.in_(refs)),
    )
    links = _write(
        session,
        delete(PseudonymLink).where(
            or_(PseudonymLink.ref.in_(refs), PseudonymLink.current_ref.in_(refs))
        ),
    )
    result = Erased(
        erasure_id=str(new_id()),
        posts_erased=len(erased),
        posts_kept_as_evidence=len(kept),
        appeal_reasons=appeals,
        report_notes=len(reported),
        telegram_members=members,
        pseudonym_links=links,
    )
    audit.record(
        session=session,
        actor=actor,
        action="erasure.done",
        subject_type="erasure",
        subject_id=result.erasure_id,
        data={k: v for k, v in vars(result).items() if k != "erasure_id"},
    )
    return result
