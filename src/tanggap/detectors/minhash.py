"""Near-duplicate text: MinHash signatures over shingles of normalised text, banded for LSH
(pure: no database). Two texts' estimated Jaccard similarity is the share of equal slots."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 5  # characters
_PRIME = np.uint64((1 << 61) - 1)
_SHIFT = np.uint64(61)
_rng = np.random.default_rng(20261123)  # fixed: signatures must stay comparable across runs
_A = _rng.integers(1, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
_MASK = np.uint64((1 << 32) - 1)
_BAND_REPR = ("(" + ", ".join(["%d"] * ROWS) + ")").encode()  # ROWS > 1: no trailing comma


@dataclass(frozen=True)
class Signature:
    """A MinHash signature of PERMUTATIONS 32-bit slots."""

    slots: tuple[int, ...]

    def hex(self) -> str:
        """Return the signature as 512 hex characters (stored with the post)."""
        return self._hex

    @cached_property
    def _hex(self) -> str:
        return b"".join(s.to_bytes(4, "big") for s in self.slots).hex()

    @classmethod
    def from_hex(cls, text: str) -> Signature:
        """Read a stored signature."""
        raw = bytes.fromhex(text)
        if len(raw) != PERMUTATIONS * 4:
            raise ValueError("a MinHash signature has 64 slots of 4 bytes")
        return cls(tuple(int.from_bytes(raw[i : i + 4], "big") for i in range(0, len(raw), 4)))

    def bands(self) -> list[str]:
        """Return the LSH band keys: texts sharing one are candidates."""
        return self._bands

    @cached_property
    def _bands(self) -> list[str]:
        # each band's key hashes the repr of its slots, "(1, 2, 3, 4)", written by a format
        slots = self.slots
        return [
            hashlib.blake2b(_BAND_REPR % slots[at : at + ROWS], digest_size=8).hexdigest()
            for at in range(0, PERMUTATIONS, ROWS)
        ]

    def similarity(self, other: Signature) -> float:
        """Estimate the Jaccard similarity of the two texts' shingle sets."""
        same = sum(1 for a, b in zip(self.slots, other.slots, strict=True) if a == b)
        return same / PERMUTATIONS


class SignatureIndex:
    """Signatures by LSH band key, in memory: the candidates for a query share a band with it,
    and the estimate (the share of equal slots) keeps those at least ``bound`` alike.

    Signatures can be added and removed in place; a band's list is replaced, never changed, so
    a concurrent lookup sees each band before or after a change."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        self.signatures: dict[int, Signature] = {}
        self.by_band: dict[tuple[int, str], list[int]] = {}
        self.add(rows)

    def add(self, rows: list[tuple[int, str]]) -> None:
        """Add (key, signature hex) rows; a key already held is replaced."""
        found = [(key, Signature.from_hex(value)) for key, value in rows]
        self.remove([key for key, _ in found if key in self.signatures])
        grouped: dict[tuple[int, str], list[int]] = {}
        for key, signature_found in found:
            for band, band_key in enumerate(signature_found.bands()):
                grouped.setdefault((band, band_key), []).append(key)
        # the signature first: a lookup may meet the key in a band as soon as it is there
        self.signatures.update(found)
        for slot, keys in grouped.items():
            self.by_band[slot] = [*self.by_band.get(slot, ()), *keys]

    def remove(self, keys: list[int]) -> int:
        """Remove the signatures with these keys (keys not held are ignored); return how many."""
        removed = 0
        for key in keys:
            found = self.signatures.get(key)
            if found is None:
                continue
            for band, band_key in enumerate(found.bands()):
                left = [k for k in self.by_band.get((band, band_key), ()) if k != key]
                if left:
                    self.by_band[(band, band_key)] = left
                else:
                    self.by_band.pop((band, band_key), None)
            del self.signatures[key]
            removed += 1
        return removed

    def __len__(self) -> int:
        return len(self.signatures)

    def query(self, found: Signature, bound: float) -> list[tuple[int, float]]:
        """Return (key, estimated similarity) of every signature at least ``bound`` alike."""
        if not self.signatures:
            return []
        candidates = {
            key
            for band, band_key in enumerate(found.bands())
            for key in self.by_band.get((band, band_key), ())
        }
        held = self.signatures
        scored = (
            (key, found.similarity(stored))
            for key in candidates
            if (stored := held.get(key)) is not None
        )
        return [(key, similarity) for key, similarity in scored if similarity >= bound]


def shingles(normalised: str) -> set[str]:
    """Return the character shingles of a normalised text (the whole text when shorter)."""
    text = normalised.strip()
    if len(text) <= SHINGLE:
        return {text} if text else set()
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


# Each shingle's 61-bit hash, kept: shingles repeat from post to post, hashing them is most of a
# signature's time. Bounded by starting afresh when full (a lookup racing that only misses).
_HASHES: dict[str, int] = {}
_HASHES_HELD = 200_000  # some 25 MB


def _hash(shingle: str) -> int:
    found = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big") >> 3
    if len(_HASHES) >= _HASHES_HELD:
        _HASHES.clear()
    _HASHES[shingle] = found
    return found


def signature(normalised: str) -> Signature | None:
    """Return the MinHash signature of a normalised text, or None for an empty one."""
    found = shingles(normalised)
    if not found:
        return None
    held = _HASHES.get
    base = np.fromiter(
        (h if (h := held(s)) is not None else _hash(s) for s in found),
        dtype=np.uint64,
        count=len(found),
    )
    # (a·x + b) mod p for every permutation and shingle; the products wrap in uint64, which
    # keeps them well mixed, and the minimum per permutation is the slot. p = 2^61 - 1, so
    # v mod p is t = (v & p) + (v >> 61), less p once if t reaches p (no division): the
    # smaller of t and t - p, since t - p wraps round to a huge number when t < p.
    mixed = np.outer(_A, base)
    mixed += _B[:, None]
    folded = mixed & _PRIME
    folded += mixed >> _SHIFT
    hashed = np.minimum(folded, folded - _PRIME)
    slots = (hashed.min(axis=1) & _MASK).astype(np.uint32)
    return Signature(tuple(slots.tolist()))


def jaccard(a: str, b: str) -> float:
    """Return the exact Jaccard similarity of two normalised texts' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
