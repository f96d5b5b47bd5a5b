"""Hash banks: create, add hashes (or files, hashed here and discarded), list, match."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.banks import changes, exchange
from tanggap.banks.models import Bank, BankEntry
from tanggap.banks.schemas import BankIn, EntryIn, HashKind
from tanggap.db.base import insert_skipping_conflicts, utcnow
from tanggap.detection.models import PostFingerprint
from tanggap.detectors.hashing import QUALITY_FLOOR, HashError, dihedral, hash_bytes
from tanggap.detectors.normalise import normalise
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.policy.schemas import Policy
from tanggap.policy.service import require_category
from tanggap.posts.models import Post

INSERT_CHUNK = 1_000
# A removed post's text joins a bank only when this long: a short caption ("Selamat pagi
# semua") is not specific to the content.
MIN_BANK_TEXT_WORDS = 8


def create(*, session: Session, data: BankIn, policy: Policy, actor: str) -> Bank:
    """Create a bank; its name is unique."""
    require_category(policy=policy, category=data.category)
    if session.execute(select(Bank.id).where(Bank.name == data.name)).first() is not None:
        raise Conflict(f"a bank named {data.name!r} exists already", field="name")
    bank = Bank(
        name=data.name,
        category=data.category,
        policy=data.policy,
        countries=list(data.countries),
        pdq_threshold=data.pdq_threshold,
    )
    session.add(bank)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="bank.created",
        subject_type="bank",
        subject_id=bank.id,
        data={"name": bank.name, "policy": bank.policy, "category": bank.category},
    )
    return bank


def get(*, session: Session, name: str) -> Bank:
    """Return the bank called ``name`` or raise NotFound."""
    bank = session.execute(select(Bank).where(Bank.name == name)).scalar_one_or_none()
    if bank is None:
        raise NotFound(f"no bank named {name!r}", field="bank")
    return bank


def get_by_id(*, session: Session, bank_id: uuid.UUID) -> Bank | None:
    """Return the bank with ``bank_id``, or None."""
    return session.get(Bank, bank_id)


def all_banks(*, session: Session) -> list[Bank]:
    """Return every bank, by name."""
    return list(session.execute(select(Bank).order_by(Bank.name)).scalars())


def list_banks(*, session: Session) -> list[tuple[Bank, int]]:
    """Return every bank with its number of entries."""
    counts = dict(
        session.execute(select(BankEntry.bank_id, func.count()).group_by(BankEntry.bank_id)).all()
    )
    return [(bank, int(counts.get(bank.id, 0))) for bank in all_banks(session=session)]


def add_entries(
    *, session: Session, bank: Bank, entries: list[EntryIn], actor: str
) -> tuple[int, int]:
    """Add hashes to a bank; return (added, already there). Duplicates are not an error, also
    when another transaction adds the same hash at the same time (the insert skips conflicts)."""
    unique = {(e.kind, e.value): e for e in reversed(entries)}  # the first label of a repeat
    rows = [
        {"bank_id": bank.id, "kind": kind, "value": value, "label": e.label, "created_at": utcnow()}
        for (kind, value), e in reversed(unique.items())
    ]
    changes.lock_writers(session)  # before any id is given out: see banks.changes
    statement = insert_skipping_conflicts(session, BankEntry, "bank_id", "kind", "value")
    statement = statement.returning(BankEntry.id)
    added = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        added += len(session.execute(statement, rows[start : start + INSERT_CHUNK]).all())
    audit.record(
        session=session,
        actor=actor,
        action="bank.entries_added",
        subject_type="bank",
        subject_id=bank.id,
        data={"added": added, "already_there": len(entries) - added},
    )
    return added, len(entries) - added


def entries_of_file(data: bytes, label: str) -> list[EntryIn]:
    """Hash one file for a bank: MD5 and SHA-256, and for an image the PDQ hashes of its eight
    rotations and mirrors. The bytes are not kept."""
    hashes = hash_bytes(data)
    found = [
        EntryIn(kind="md5", value=hashes.md5, label=label),
        EntryIn(kind="sha256", value=hashes.sha256, label=label),
    ]
    if hashes.pdq is not None:
        if hashes.quality is not None and hashes.quality < QUALITY_FLOOR:
            raise HashError(
                f"PDQ quality {hashes.quality} is below {QUALITY_FLOOR}: the image is too flat "
                "to match reliably"
            )
        variants, _ = dihedral(data)
        found.extend(EntryIn(kind="pdq", value=v, label=label) for v in dict.fromkeys(variants))
    return found


@dataclass(frozen=True)
class Imported:
    """What importing a hash list did."""

    added: int
    already_there: int
    unsupported: dict[str, int]
    not_positive: int


def import_list(
    *,
    session: Session,
    bank: Bank,
    content: str,
    fmt: exchange.Format,
    skip_unsupported: bool,
    actor: str,
) -> Imported:
    """Add a threatexchange hash list to a bank; a malformed line adds nothing."""
    parsed = exchange.parse(content, fmt=fmt, skip_unsupported=skip_unsupported)
    added, there = add_entries(session=session, bank=bank, entries=parsed.entries, actor=actor)
    return Imported(added, there, dict(parsed.unsupported), parsed.not_positive)


def entry_values(*, session: Session, bank: Bank) -> Iterator[tuple[str, str]]:
    """Yield a bank's (kind, value) entries, oldest first, a page at a time."""
    last = 0
    while True:
        rows = session.execute(
            select(BankEntry.id, BankEntry.kind, BankEntry.value)
            .where(BankEntry.bank_id == bank.id)
            .where(BankEntry.id > last)
            .order_by(BankEntry.id)
            .limit(5_000)
        ).all()
        if not rows:
            return
        for _, kind, value in rows:
            yield kind, value
        last = rows[-1][0]


def add_content(
    *, session: Session, bank: Bank, post: Post, actor: str, case_id: uuid.UUID
) -> tuple[int, int]:
    """Add a removed post's hashes to a bank: its media's PDQ, MD5 and SHA-256 (those known) and
    its text's MinHash signature. Return (added, already there)."""
    label = f"case {case_id}"
    entries = [
        EntryIn(kind=kind, value=value, label=label)
        for media in post.media
        for kind, value in _media_hashes(media.pdq, media.md5, media.sha256)
        if value
    ]
    text = session.get(PostFingerprint, post.id)
    if text is not None and len(normalise(post.text).split()) >= MIN_BANK_TEXT_WORDS:
        entries.append(EntryIn(kind="minhash", value=text.minhash, label=label))
    if not entries:
        return 0, 0
    return add_entries(session=session, bank=bank, entries=entries, actor=actor)


def _media_hashes(
    pdq: str | None, md5: str | None, sha256: str | None
) -> tuple[tuple[HashKind, str | None], ...]:
    return (("pdq", pdq), ("md5", md5), ("sha256", sha256))


def remove_case_entries(
    *, session: Session, bank_id: uuid.UUID, case_id: uuid.UUID, actor: str
) -> int:
    """Take out of a bank what a decision on ``case_id`` put there (its appeal succeeded)."""
    removed = changes.remove_entries(
        session, BankEntry.bank_id == bank_id, BankEntry.label == f"case {case_id}"
    )
    audit.record(
        session=session,
        actor=actor,
        action="bank.entries_removed",
        subject_type="bank",
        subject_id=bank_id,
        data={"case_id": str(case_id), "removed": removed},
    )
    return int(removed)


def entries_of_texts(texts: list[str], label: str | None = None) -> list[EntryIn]:
    """Turn texts into MinHash entries (near-duplicate text); the texts themselves are not kept."""
    found = []
    for index, text in enumerate(texts):
        entry = exchange.text_entry(text, label)
        if entry is None:
            raise InvalidInput(f"texts[{index}] has no words to match", field=f"texts.{index}")
        found.append(entry)
    return found


def entries_of_files(files: list[tuple[str, bytes]]) -> list[EntryIn]:
    """Hash several files; the first that cannot be hashed stops everything (nothing added)."""
    found: list[EntryIn] = []
    for name, data in files:
        try:
            found.extend(entries_of_file(data, label=name))
        except HashError as exc:
            raise InvalidInput(f"{name}: {exc}", field="file") from exc
    return found
