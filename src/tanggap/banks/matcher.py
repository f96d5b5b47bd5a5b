"""Matching media hashes and text signatures against every bank: the interface detection
calls, and the in-memory engine behind it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.banks import changes
from tanggap.banks.models import Bank, BankEntry, HashKind
from tanggap.detectors.minhash import Signature, SignatureIndex
from tanggap.detectors.pdq_index import PdqIndex

# Of several banks matching, the strongest policy decides what happens.
POLICY_STRENGTH = {"review": 0, "auto_geo_restrict": 1, "auto_remove": 2}


class MediaHashes(Protocol):
    """The hashes of one media item (a stored ``PostMedia`` has them)."""

    md5: str | None
    sha256: str | None
    pdq: str | None


@dataclass(frozen=True)
class BankMatch:
    """One bank entry a media item (or a post's text) matched."""

    bank: Bank
    entry_id: int
    kind: HashKind
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


class BankLookup(Protocol):
    """What detection asks of the banks."""

    def match(self, *, session: Session, media: Sequence[MediaHashes]) -> list[list[BankMatch]]:
        """Return, for each media item, every bank it matches, strongest policy first."""

    def match_text(
        self, *, session: Session, found: Signature, bound: float, bank_id: uuid.UUID | None = None
    ) -> list[BankMatch]:
        """Return every bank whose text entries ``found`` is ``bound`` alike to."""

    def match_texts(
        self, *, session: Session, found: Sequence[Signature], bound: float
    ) -> list[list[BankMatch]]:
        """Return, for each text signature, every bank whose text entries it is ``bound`` alike
        to; the index is brought up to date once for all of them."""


IndexT = TypeVar("IndexT", PdqIndex, SignatureIndex)


@dataclass
class _Held(Generic[IndexT]):
    """One index over the entries of a kind, the bank owning each entry, and the last entry id
    and tombstone id applied to it."""

    index: IndexT
    owners: dict[int, uuid.UUID]
    heads: changes.Heads


class BankMatcher:
    """The in-memory engine: a PDQ index and a MinHash index over every bank's entries, built
    in full once per process, then kept current by the changes since (``banks.changes``): each
    lookup asks for the newest entry and tombstone ids (one cheap query) and, when another
    process or this one changed the entries, applies only the entries added and removed since."""

    def __init__(self) -> None:
        self._held: dict[HashKind, _Held[Any]] = {}
        self._lock = threading.Lock()
        self.rebuilds = 0  # full builds (one per kind at the first lookup)
        self.deltas = 0  # changes applied without a build

    def _pdq(self, session: Session) -> _Held[PdqIndex]:
        return self._fresh(session, "pdq")

    def _text(self, session: Session) -> _Held[SignatureIndex]:
        return self._fresh(session, "minhash")

    def _fresh(self, session: Session, kind: HashKind) -> _Held[Any]:
        now = changes.heads(session)
        held = self._held.get(kind)
        if held is not None and held.heads.covers(now):
            return held
        with self._lock:  # one thread builds or catches up; the others wait for it
            held = self._held.get(kind)
            if held is None:
                held = self._build(session, kind, now)
                self._held[kind] = held
                self.rebuilds += 1
            elif not held.heads.covers(now):  # (a thread may have looked before another did)
                self._catch_up(session, kind, held, now)
                self.deltas += 1
            return held

    @staticmethod
    def _build(session: Session, kind: HashKind, now: changes.Heads) -> _Held[Any]:
        rows = changes.added(session, kind=kind, after=0, upto=now.entry)
        owners = {entry_id: bank_id for entry_id, _, bank_id in rows}
        index: PdqIndex | SignatureIndex
        if kind == "pdq":
            index = PdqIndex.build([(value, entry_id) for entry_id, value, _ in rows])
        else:
            index = SignatureIndex([(entry_id, value) for entry_id, value, _ in rows])
        return _Held(index, owners, now)

    @staticmethod
    def _catch_up(session: Session, kind: HashKind, held: _Held[Any], now: changes.Heads) -> None:
        # Owners before the index (a hit always finds its bank), additions before removals (an
        # entry added and removed since the last look goes in and out).
        rows = changes.added(session, kind=kind, after=held.heads.entry, upto=now.entry)
        held.owners.update((entry_id, bank_id) for entry_id, _, bank_id in rows)
        if isinstance(held.index, PdqIndex):
            held.index.add([(value, entry_id) for entry_id, value, _ in rows])
        else:
            held.index.add([(entry_id, value) for entry_id, value, _ in rows])
        gone = changes.removed(session, kind=kind, after=held.heads.removal, upto=now.removal)
        held.index.remove(gone)
        for entry_id in gone:
            held.owners.pop(entry_id, None)
        held.heads = held.heads.upto(now)

    def match_text(
        self, *, session: Session, found: Signature, bound: float, bank_id: uuid.UUID | None = None
    ) -> list[BankMatch]:
        """Return every bank whose MinHash entries the text's signature is ``bound`` alike to
        (the closest entry of each), strongest policy first."""
        matches = self.match_texts(session=session, found=[found], bound=bound)[0]
        return [m for m in matches if bank_id is None or m.bank.id == bank_id]

    def match_texts(
        self, *, session: Session, found: Sequence[Signature], bound: float
    ) -> list[list[BankMatch]]:
        """Return, for each text signature, every bank whose MinHash entries it is ``bound``
        alike to (the closest entry of each), strongest policy first; the index is brought up
        to date once, and the banks read only when something matched."""
        built = self._text(session)
        hits = [built.index.query(signature, bound) for signature in found]
        if not any(hits):
            return [[] for _ in found]
        banks = {bank.id: bank for bank in session.execute(select(Bank)).scalars()}
        return [self._closest_text(built, banks, each) for each in hits]

    @staticmethod
    def _closest_text(
        built: _Held[SignatureIndex], banks: dict[uuid.UUID, Bank], hits: list[tuple[int, float]]
    ) -> list[BankMatch]:
        best: dict[uuid.UUID, BankMatch] = {}
        for entry_id, similarity in hits:
            owner = built.owners.get(entry_id)
            bank = banks.get(owner) if owner is not None else None
            if bank is None:
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
        pdq = self._pdq(session) if any(item.pdq for item in media) else None
        widest = max(bank.pdq_threshold for bank in banks.values())
        exact = self._exact(session, media)
        return [self._match_one(banks, widest, pdq, exact, item) for item in media]

    @staticmethod
    def _exact(
        session: Session, media: Sequence[MediaHashes]
    ) -> dict[tuple[str, str], list[tuple[int, uuid.UUID]]]:
        """The bank entries equal to the items' MD5 and SHA-256 hashes, by (kind, value): one
        query for all the items."""
        values = {v for item in media for v in (item.md5, item.sha256) if v}
        found: dict[tuple[str, str], list[tuple[int, uuid.UUID]]] = {}
        if not values:
            return found
        for entry_id, bank_id, kind, value in session.execute(
            select(BankEntry.id, BankEntry.bank_id, BankEntry.kind, BankEntry.value)
            .where(BankEntry.kind.in_(("md5", "sha256")), BankEntry.value.in_(values))
            .order_by(BankEntry.id)
        ).all():
            found.setdefault((kind, value), []).append((entry_id, bank_id))
        return found

    @staticmethod
    def _match_one(
        banks: dict[uuid.UUID, Bank],
        widest: int,
        pdq: _Held[PdqIndex] | None,
        exact: dict[tuple[str, str], list[tuple[int, uuid.UUID]]],
        item: MediaHashes,
    ) -> list[BankMatch]:
        best: dict[uuid.UUID, BankMatch] = {}
        kinds: tuple[HashKind, HashKind] = ("md5", "sha256")
        for kind, value in zip(kinds, (item.md5, item.sha256), strict=True):
            for entry_id, bank_id in exact.get((kind, value or ""), []):
                best[bank_id] = BankMatch(banks[bank_id], entry_id, kind, 0)
        if item.pdq and pdq is not None:
            for entry_id, distance in pdq.index.query(item.pdq, widest):
                owner = pdq.owners.get(entry_id)
                bank = banks.get(owner) if owner is not None else None
                if owner is None or bank is None or distance > bank.pdq_threshold:
                    continue
                if owner not in best or best[owner].distance > distance:
                    best[owner] = BankMatch(bank, entry_id, "pdq", distance)
        return sorted(best.values(), key=lambda m: (-POLICY_STRENGTH[m.bank.policy], m.distance))
