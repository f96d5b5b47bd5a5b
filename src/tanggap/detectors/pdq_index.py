"""Look PDQ hashes up against a bank (pure, in memory): every stored hash within a Hamming
distance, exactly.

Small banks are scanned (vectorised XOR and popcount over 64-bit words); from
``MULTI_INDEX_MIN_SIZE`` hashes on, the bank is held in a multi-index (``pdq_mih``: compiled, 16
chunk tables), which answers a lookup at threshold 31 against 10 M hashes in ~0.15 ms on one core
(bench/pdq_lookup.py).
Both are exact at every threshold: nothing within it is missed, nothing beyond it is returned.
Hashes can be added and removed after the build (``PdqIndex.add``, ``PdqIndex.remove``) without
building the index again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tanggap.detectors.pdq_mih import MultiIndex

# The multi-index answers faster than a scan at every size measured (2-3x from 250 to 4,000
# hashes: bench/pdq_lookup.py --crossover), but holds 8 MB of tables whatever the size and costs
# each process ~0.7 s to load its compiled code. Under this size a scan takes < 50 us a lookup.
MULTI_INDEX_MIN_SIZE = 2048
_PARSE_BLOCK = 1 << 20  # hashes parsed at a time, to bound the memory of a bulk build

Hits = list[tuple[int, int]]


def parse_hashes(hex_hashes: Sequence[str]) -> np.ndarray:
    """Return the hashes as an (n, 4) array of unsigned 64-bit words (big-endian, as written);
    raise ValueError for anything but 64 hex digits."""
    words = np.empty((len(hex_hashes), 4), dtype=np.uint64)
    for start in range(0, len(hex_hashes), _PARSE_BLOCK):
        block = hex_hashes[start : start + _PARSE_BLOCK]
        if set(map(len, block)) - {64}:
            raise ValueError("a PDQ hash has 64 hex digits")
        try:
            raw = bytes.fromhex("".join(block))
        except ValueError:
            raw = b""
        # fromhex skips whitespace between digit pairs: a short result means some was there.
        if len(raw) != 32 * len(block):
            raise ValueError(f"not a PDQ hash (64 hex digits): {_first_bad(block)!r}")
        words[start : start + len(block)] = np.frombuffer(raw, dtype=">u8").reshape(-1, 4)
    return words


def _first_bad(hex_hashes: Sequence[str]) -> str:
    for hex_hash in hex_hashes:
        try:
            if len(bytes.fromhex(hex_hash)) == 32:
                continue
        except ValueError:
            pass
        return hex_hash
    return ""


def words(hex_hash: str) -> np.ndarray:
    """Split a 256-bit PDQ hash into four unsigned 64-bit words."""
    return parse_hashes([hex_hash])[0]


class _Scan:
    """The exhaustive engine: every stored hash compared with every query."""

    def __init__(self, hashes: np.ndarray) -> None:
        # One contiguous array per word: 7x faster than summing across the rows of an (n, 4) one.
        self.columns = [np.ascontiguousarray(hashes[:, word]) for word in range(4)]

    @property
    def hashes(self) -> np.ndarray:
        return np.column_stack(self.columns) if len(self.columns[0]) else _NO_HASHES

    @property
    def nbytes(self) -> int:
        return sum(column.nbytes for column in self.columns)

    def search(
        self, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        found = [self._search_one(query, threshold) for query in queries]
        rows = np.concatenate([row for row, _ in found]) if len(found) > 1 else found[0][0]
        distances = np.concatenate([d for _, d in found]) if len(found) > 1 else found[0][1]
        query = np.repeat(np.arange(len(found)), [len(row) for row, _ in found])
        return query, rows, distances

    def _search_one(self, query: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
        distances = np.bitwise_count(self.columns[0] ^ query[0]).astype(np.int16)
        for word in (1, 2, 3):
            distances += np.bitwise_count(self.columns[word] ^ query[word])
        rows = np.flatnonzero(distances <= threshold)
        return rows, distances[rows]


_NO_HASHES = np.zeros((0, 4), dtype=np.uint64)


class _Segment:
    """Hashes under one engine, and the id of each row."""

    def __init__(self, hashes: np.ndarray, ids: np.ndarray, multi_index: bool) -> None:
        self.ids = ids
        self.engine: _Scan | MultiIndex
        if multi_index:
            from tanggap.detectors.pdq_mih import MultiIndex  # loads the compiler

            self.engine = MultiIndex(hashes)
        else:
            self.engine = _Scan(hashes)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def sealed(self) -> bool:
        return not isinstance(self.engine, _Scan)


class PdqIndex:
    """An exact index of PDQ hashes: every stored hash within the threshold, at any threshold.

    Hashes added after the build go to a small scanned tail; a full tail is sealed into a
    multi-index segment, and a segment at least as large as the one before it is merged with it
    (a binary counter: a hash is copied O(log n) times, the segments stay O(log n)). Removed
    hashes are masked until their segment is merged. Each change swaps in a new state, so a
    concurrent lookup sees the index before or after it, never half of it."""

    def __init__(self) -> None:
        self._state: tuple[tuple[_Segment, ...], frozenset[int]] = ((), frozenset())

    @classmethod
    def build(
        cls, entries: Iterable[tuple[str, int]], *, multi_index: bool | None = None
    ) -> PdqIndex:
        """Build the index from (hash, id) pairs; ``multi_index`` forces the engine (by default
        it depends on the size)."""
        pairs = entries if isinstance(entries, list) else list(entries)
        index = cls()
        if not pairs:
            return index
        hashes = parse_hashes(list(map(itemgetter(0), pairs)))
        ids = _id_array(list(map(itemgetter(1), pairs)))
        if multi_index is None:
            multi_index = len(pairs) >= MULTI_INDEX_MIN_SIZE
        index._state = ((_Segment(hashes, ids, multi_index),), frozenset())
        return index

    def add(self, entries: Iterable[tuple[str, int]]) -> None:
        """Add (hash, id) pairs to the index, without building it again."""
        pairs = entries if isinstance(entries, list) else list(entries)
        if not pairs:
            return
        segments, removed = self._state
        hashes = parse_hashes(list(map(itemgetter(0), pairs)))
        ids = _id_array(list(map(itemgetter(1), pairs)))
        kept = list(segments)
        if kept and not kept[-1].sealed:
            tail = kept.pop()
            hashes = np.concatenate([tail.engine.hashes, hashes])
            ids = _concat_ids([tail.ids, ids])
        sealing = len(ids) >= MULTI_INDEX_MIN_SIZE
        kept.append(_Segment(hashes, ids, multi_index=sealing))
        while sealing and len(kept) >= 2 and len(kept[-1]) >= len(kept[-2]):
            newer, older = kept.pop(), kept.pop()
            merged, removed = _merge([older, newer], removed)
            kept.append(merged)
        self._state = (tuple(kept), removed)

    def remove(self, ids: Iterable[int]) -> int:
        """Mask the hashes with these ids (ids not held are ignored); return how many."""
        segments, removed = self._state
        wanted = [i for i in set(ids) if i not in removed]
        if not wanted or not segments:
            return 0
        held: set[int] = set()
        for segment in segments:
            found = segment.ids[np.isin(segment.ids, np.asarray(wanted, dtype=segment.ids.dtype))]
            held.update(found.tolist())
        if held:
            self._state = (segments, removed | held)
        return len(held)

    def __len__(self) -> int:
        segments, removed = self._state
        return sum(len(segment) for segment in segments) - len(removed)

    @property
    def segments(self) -> int:
        """Return how many segments answer a lookup (one after a build)."""
        return len(self._state[0])

    @property
    def engine(self) -> str:
        """Return which engine answers most of the hashes: ``"scan"`` or ``"multi-index"``."""
        segments, _ = self._state
        if not segments:
            return "scan"
        return "multi-index" if max(segments, key=len).sealed else "scan"

    @property
    def nbytes(self) -> int:
        """Return the memory held by the index's arrays."""
        segments, _ = self._state
        return sum(segment.engine.nbytes + segment.ids.nbytes for segment in segments)

    def query(self, hex_hash: str, threshold: int) -> Hits:
        """Return (id, distance) of every stored hash within ``threshold`` bits, closest first."""
        return self.query_many([hex_hash], threshold)[0]

    def query_many(self, hex_hashes: Sequence[str], threshold: int) -> list[Hits]:
        """Return, for each hash, what ``query`` returns, in one pass over the index."""
        segments, removed = self._state
        if not segments:
            return [[] for _ in hex_hashes]
        queries = parse_hashes(hex_hashes)
        if threshold < 0 or not len(queries):
            return [[] for _ in hex_hashes]
        found_query, found_id, found_distance = [], [], []
        for segment in segments:
            # distances are whole numbers: int() keeps the compiled code to one signature
            query, rows, distance = segment.engine.search(queries, int(threshold))
            found_query.append(query)
            found_id.append(segment.ids[rows])
            found_distance.append(distance)
        query, ids, distance = (
            (found_query[0], found_id[0], found_distance[0])
            if len(segments) == 1
            else (
                np.concatenate(found_query),
                _concat_ids(found_id),
                np.concatenate(found_distance),
            )
        )
        if removed and len(ids):
            live = np.asarray([i not in removed for i in ids.tolist()], dtype=bool)
            query, ids, distance = query[live], ids[live], distance[live]
        return _by_query(len(queries), query, ids, distance)


def _merge(segments: list[_Segment], removed: frozenset[int]) -> tuple[_Segment, frozenset[int]]:
    """Merge segments into one multi-index segment, leaving out the masked hashes; return it
    and the masks still needed."""
    hashes = np.concatenate([segment.engine.hashes for segment in segments])
    ids = _concat_ids([segment.ids for segment in segments])
    if removed:
        gone = np.asarray([i in removed for i in ids.tolist()], dtype=bool)
        dropped = set(ids[gone].tolist())
        hashes, ids, removed = hashes[~gone], ids[~gone], removed - dropped
    return _Segment(hashes, ids, multi_index=True), removed


def _concat_ids(parts: list[np.ndarray]) -> np.ndarray:
    if any(part.dtype == object for part in parts):
        return _id_array([i for part in parts for i in part.tolist()])
    return np.concatenate(parts)


def _id_array(ids: list[int]) -> np.ndarray:
    array = np.asarray(ids)
    if array.ndim == 1 and array.dtype.kind in "iu":
        return array
    # ids numpy cannot hold as integers (beyond 64 bits, or not ints) are kept as they are
    kept = np.empty(len(ids), dtype=object)
    kept[:] = ids
    return kept


def _by_query(
    n_queries: int, query: np.ndarray, ids: np.ndarray, distance: np.ndarray
) -> list[Hits]:
    """Group hits by query, each sorted by (distance, id)."""
    if n_queries == 1:
        return [sorted(zip(ids.tolist(), distance.tolist(), strict=True), key=_closest_first)]
    results: list[Hits] = [[] for _ in range(n_queries)]
    if ids.dtype == object:
        for q, entry_id, d in zip(query.tolist(), ids.tolist(), distance.tolist(), strict=True):
            results[q].append((entry_id, d))
        for hits in results:
            hits.sort(key=_closest_first)
        return results
    order = np.lexsort((ids, distance, query))
    bounds = np.searchsorted(query[order], np.arange(n_queries + 1))
    pairs = list(zip(ids[order].tolist(), distance[order].tolist(), strict=True))
    for q in range(n_queries):
        results[q] = pairs[bounds[q] : bounds[q + 1]]
    return results


def _closest_first(hit: tuple[int, int]) -> tuple[int, int]:
    return hit[1], hit[0]
