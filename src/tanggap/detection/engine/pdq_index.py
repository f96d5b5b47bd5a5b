"""Look PDQ hashes up against a bank (pure, in memory): every stored hash within a Hamming
distance, by vectorised XOR and popcount over 64-bit words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np


def words(hex_hash: str) -> np.ndarray:
    """Split a 256-bit PDQ hash into four unsigned 64-bit words."""
    if len(hex_hash) != 64:
        raise ValueError("a PDQ hash has 64 hex digits")
    return np.array([int(hex_hash[i : i + 16], 16) for i in range(0, 64, 16)], dtype=np.uint64)


@dataclass
class PdqIndex:
    """An exhaustive index: exact (100 % recall) within any threshold."""

    _hashes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.uint64))
    _ids: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, entries: Iterable[tuple[str, int]]) -> PdqIndex:
        """Build the index from (hash, id) pairs."""
        pairs = list(entries)
        index = cls()
        if pairs:
            index._hashes = np.stack([words(h) for h, _ in pairs])
            index._ids = [i for _, i in pairs]
        return index

    def __len__(self) -> int:
        return len(self._ids)

    def query(self, hex_hash: str, threshold: int) -> list[tuple[int, int]]:
        """Return (id, distance) of every stored hash within ``threshold`` bits, closest first."""
        if not self._ids:
            return []
        distances = np.bitwise_count(self._hashes ^ words(hex_hash)).sum(axis=1)
        hits = np.nonzero(distances <= threshold)[0]
        found = [(self._ids[i], int(distances[i])) for i in hits]
        return sorted(found, key=lambda pair: (pair[1], pair[0]))
