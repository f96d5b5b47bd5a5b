"""Hash banks: create, add hashes (or files, hashed here and discarded), list, match."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.banks import exchange
from tanggap.banks.models import Bank, BankEntry
from tanggap.banks.schemas import BankIn, EntryIn
from tanggap.cases.service import validate_category
from tanggap.db.base import insert_skipping_conflicts, utcnow
from tanggap.detection.engine.hashing import QUALITY_FLOOR, HashError, dihedral, hash_bytes
from tanggap.detection.engine.minhash import Signature, SignatureIndex
from tanggap.detection.engine.normalise import normalise
from tanggap.detection.engine.pdq_index import PdqIndex
from tanggap.detection.models import PostFingerprint
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.policy.schemas import Policy
from tanggap.posts.models import Post


class MediaHashes(Protocol):
    """The hashes of one media item (a stored ``PostMedia`` has them)."""

    md5: str | None
    sha256: str | None
    pdq: str | None


# Of several banks matching, the strongest policy decides what happens.
INSERT_CHUNK = 1_000
# A removed post's text joins a bank only when this long: a short caption ("Selamat pagi
# semua") is not specific to the content.
MIN_BANK_TEXT_WORDS = 8
POLICY_STRENGTH = {"review": 0, "auto_geo_restrict": 1, "auto_remove": 2}


def create(*, session: Session, data: BankIn, policy: Policy, actor: str) -> Bank:
    """Create a bank; its name is unique."""
    validate_category(policy=policy, category=data.category)
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
        EntryIn(kind=kind, value=value, label=label)  # type: ignore[arg-type]
        for media in post.media
        for kind, value in (("pdq", media.pdq), ("md5", media.md5), ("sha256", media.sha256))
        if value
    ]
    text = session.get(PostFingerprint, post.id)
    if text is not None and len(normalise(post.text).split()) >= MIN_BANK_TEXT_WORDS:
        entries.append(EntryIn(kind="minhash", value=text.minhash, label=label))
    if not entries:
        return 0, 0
    return add_entries(session=session, bank=bank, entries=entries, actor=actor)


def remove_case_entries(
    *, session: Session, bank_id: uuid.UUID, case_id: uuid.UUID, actor: str
) -> int:
    """Take out of a bank what a decision on ``case_id`` put there (its appeal succeeded)."""
    removed = session.execute(
        delete(BankEntry)
        .where(BankEntry.bank_id == bank_id)
        .where(BankEntry.label == f"case {case_id}")
    ).rowcount  # type: ignore[attr-defined]
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


@dataclass(frozen=True)
class BankMatch:
    """One bank entry a media item (or a post's text) matched."""

    bank: Bank
    entry_id: int
    kind: str
    distance: int  # PDQ bits apart; 0 for exact hashes and MinHash
    similarity: float | None = None  # MinHash: the share of equal signature slots

    @property
    def score(self) -> float:
        """Return 1 for an exact match, less the further the PDQ hash or the less alike the text."""
        if self.similarity is not None:
            return round(self.similarity, 3)
        return round(1 - self.distance / 256, 3)

    @property
    def closeness(self) -> str:
        """Say how close the match is, in words for an explanation."""
        if self.similarity is not None:
            return f"similarity {self.similarity:.2f}"
        return f"distance {self.distance}"


class BankMatcher:
    """Matches media hashes and text signatures against every bank; the in-memory indexes are
    rebuilt when a bank's entries change."""

    def __init__(self) -> None:
        self._versions: dict[str, tuple[int, int]] = {}
        self._index = PdqIndex()
        self._text = SignatureIndex([])
        self._entry_bank: dict[str, dict[int, uuid.UUID]] = {"pdq": {}, "minhash": {}}
        self._lock = threading.Lock()

    def _stale(self, session: Session, kind: str) -> tuple[tuple[int, int], list[Any]] | None:
        """Return the version and the entries of ``kind`` when they changed since the last
        build, else None."""
        count, last = session.execute(
            select(func.count(BankEntry.id), func.coalesce(func.max(BankEntry.id), 0)).where(
                BankEntry.kind == kind
            )
        ).one()
        key = (int(count), int(last))
        if self._versions.get(kind) == key:
            return None
        rows = session.execute(
            select(BankEntry.id, BankEntry.value, BankEntry.bank_id).where(BankEntry.kind == kind)
        ).all()
        return key, list(rows)

    def _rebuild(self, session: Session, kind: str) -> None:
        """Rebuild an in-memory index when its entries changed: built aside, then swapped in
        (owners first, so a concurrent lookup never meets an entry without its bank)."""
        if (found := self._stale(session, kind)) is None:
            return
        with self._lock:
            key, rows = found
            if self._versions.get(kind) == key:
                return  # another thread built it meanwhile
            owners = {entry_id: bank_id for entry_id, _, bank_id in rows}
            self._entry_bank[kind] = {**self._entry_bank[kind], **owners}
            if kind == "pdq":
                self._index = PdqIndex.build((value, entry_id) for entry_id, value, _ in rows)
            else:
                self._text = SignatureIndex([(entry_id, value) for entry_id, value, _ in rows])
            self._entry_bank[kind] = owners
            self._versions[kind] = key

    def match_text(
        self, *, session: Session, found: Signature, bound: float, bank_id: uuid.UUID | None = None
    ) -> list[BankMatch]:
        """Return every bank whose MinHash entries the text's signature is ``bound`` alike to
        (the closest entry of each), strongest policy first."""
        self._rebuild(session, "minhash")
        hits = self._text.query(found, bound)
        if not hits:
            return []
        owners = self._entry_bank["minhash"]
        banks = {bank.id: bank for bank in session.execute(select(Bank)).scalars()}
        best: dict[uuid.UUID, BankMatch] = {}
        for entry_id, similarity in hits:
            owner = owners.get(entry_id)
            bank = banks.get(owner) if owner is not None else None
            if bank is None or (bank_id is not None and bank.id != bank_id):
                continue
            if bank.id not in best or (best[bank.id].similarity or 0) < similarity:
                best[bank.id] = BankMatch(bank, entry_id, "minhash", 0, similarity)
        return sorted(best.values(), key=lambda m: (-POLICY_STRENGTH[m.bank.policy], -m.score))

    def match(self, *, session: Session, media: Sequence[MediaHashes]) -> list[list[BankMatch]]:
        """Return, for each media item, every bank it matches (the closest entry of each bank),
        strongest policy first. The banks and the PDQ index are read once per call."""
        banks = {bank.id: bank for bank in session.execute(select(Bank)).scalars()}
        if not banks:
            return [[] for _ in media]
        if any(item.pdq for item in media):
            self._rebuild(session, "pdq")
        widest = max(bank.pdq_threshold for bank in banks.values())
        return [self._match_one(session, banks, widest, item) for item in media]

    def _match_one(
        self, session: Session, banks: dict[uuid.UUID, Bank], widest: int, item: MediaHashes
    ) -> list[BankMatch]:
        best: dict[uuid.UUID, BankMatch] = {}
        exact = [(k, v) for k, v in (("md5", item.md5), ("sha256", item.sha256)) if v]
        for kind, value in exact:
            for entry_id, bank_id in session.execute(
                select(BankEntry.id, BankEntry.bank_id)
                .where(BankEntry.kind == kind)
                .where(BankEntry.value == value)
            ).all():
                best[bank_id] = BankMatch(banks[bank_id], entry_id, kind, 0)
        if item.pdq:
            for entry_id, distance in self._index.query(item.pdq, widest):
                owner = self._entry_bank["pdq"].get(entry_id)
                bank = banks.get(owner) if owner is not None else None
                if owner is None or bank is None or distance > bank.pdq_threshold:
                    continue
                if owner not in best or best[owner].distance > distance:
                    best[owner] = BankMatch(bank, entry_id, "pdq", distance)
        return sorted(best.values(), key=lambda m: (-POLICY_STRENGTH[m.bank.policy], m.distance))
