"""PDQ lookups: the multi-index returns exactly what a brute-force scan returns, at every
threshold, for single and batched queries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tanggap.detectors.pdq_index import MULTI_INDEX_MIN_SIZE, PdqIndex

BANK_SIZE = 50_000
Hits = list[tuple[int, int]]


def to_hex(words: np.ndarray) -> list[str]:
    """Write (n, 4) big-endian words as 64-digit hashes."""
    text = words.astype(">u8").tobytes().hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def flip(words: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """Return a copy of one hash with ``bits`` distinct bits flipped."""
    near = words.copy()
    for bit in rng.choice(256, size=bits, replace=False):
        near[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return near


def spread(words: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """Return a copy of one hash with ``bits`` bits flipped as evenly as can be over its 16
    chunks of 16 bits: the fewest chunks within the pigeonhole radius, the hardest to find."""
    near = words.copy()
    extra = set(rng.choice(16, size=bits % 16, replace=False).tolist())
    for chunk in range(16):
        shift = 48 - 16 * (chunk % 4)  # chunk 0 is the first four hex digits
        count = bits // 16 + (chunk in extra)
        for bit in rng.choice(16, size=count, replace=False):
            near[chunk // 4] ^= np.uint64(1) << np.uint64(shift + int(bit))
    return near


def brute_force(bank: np.ndarray, ids: np.ndarray, query: np.ndarray, threshold: int) -> Hits:
    """Every stored hash within ``threshold``, by comparing with each of them."""
    distances = np.bitwise_count(bank ^ query).sum(axis=1)
    rows = np.nonzero(distances <= threshold)[0]
    return sorted(
        ((int(ids[r]), int(distances[r])) for r in rows), key=lambda hit: (hit[1], hit[0])
    )


@dataclass
class Bank:
    words: np.ndarray
    ids: np.ndarray
    queries: np.ndarray  # planted near copies, then random hashes
    planted_distance: list[int]
    planted_id: list[int]


@pytest.fixture(scope="module")
def bank() -> Bank:
    rng = np.random.default_rng(20261124)
    words = rng.integers(0, 2**64, size=(BANK_SIZE, 4), dtype=np.uint64, endpoint=False)
    ids = rng.permutation(10 * BANK_SIZE)[:BANK_SIZE] + 1
    distances = [d for d in range(41) for _ in range(3)]
    sources = rng.integers(0, BANK_SIZE, size=len(distances))
    planted = [flip(words[s], d, rng) for s, d in zip(sources, distances, strict=True)]
    strangers = rng.integers(0, 2**64, size=(40, 4), dtype=np.uint64, endpoint=False)
    return Bank(
        words=words,
        ids=ids,
        queries=np.vstack([np.array(planted), strangers]),
        planted_distance=distances,
        planted_id=[int(ids[s]) for s in sources],
    )


@pytest.fixture(scope="module")
def built(bank: Bank) -> PdqIndex:
    return PdqIndex.build(zip(to_hex(bank.words), bank.ids.tolist(), strict=True))


def test_a_large_bank_gets_the_multi_index_and_a_small_one_a_scan(built: PdqIndex) -> None:
    assert built.engine == "multi-index" and len(built) == BANK_SIZE
    small = PdqIndex.build((h, i) for i, h in enumerate(to_hex(np.zeros((10, 4), np.uint64))))
    assert small.engine == "scan" and MULTI_INDEX_MIN_SIZE > 10


def test_planted_copies_within_31_are_found_and_beyond_it_not(bank: Bank, built: PdqIndex) -> None:
    queries = to_hex(bank.queries)
    for query, distance, source in zip(
        queries, bank.planted_distance, bank.planted_id, strict=False
    ):
        hits = built.query(query, 31)
        if distance <= 31:
            assert (source, distance) in hits, (distance, hits)
        else:
            assert source not in {entry_id for entry_id, _ in hits}, (distance, hits)


@pytest.mark.parametrize("threshold", [0, 1, 15, 16, 31, 32, 47, 48, 63, 64, 90])
def test_single_and_batched_queries_equal_brute_force(
    bank: Bank, built: PdqIndex, threshold: int
) -> None:
    queries = to_hex(bank.queries)
    expected = [brute_force(bank.words, bank.ids, q, threshold) for q in bank.queries]
    assert built.query_many(queries, threshold) == expected
    assert [built.query(q, threshold) for q in queries[::7]] == expected[::7]
    assert sum(map(len, expected)) >= 3 * (min(threshold, 40) + 1)  # the planted ones at least


@pytest.mark.parametrize("distance", [1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64])
def test_copies_spread_evenly_over_the_chunks_are_found_at_their_distance(
    bank: Bank, built: PdqIndex, distance: int
) -> None:
    rng = np.random.default_rng(distance)
    sources = rng.integers(0, BANK_SIZE, size=12)
    queries = np.array([spread(bank.words[s], distance, rng) for s in sources])
    expected = [brute_force(bank.words, bank.ids, q, distance) for q in queries]
    found = built.query_many(to_hex(queries), distance)
    assert found == expected
    assert all((int(bank.ids[s]), distance) in hits for s, hits in zip(sources, found, strict=True))
    assert [built.query(q, distance - 1) for q in to_hex(queries)] == [
        [hit for hit in hits if hit[1] < distance] for hits in expected
    ]


def test_both_engines_agree_on_a_crowded_bank() -> None:
    # Hashes a few bits away from one another share chunk values: big buckets, hashes reachable
    # from many chunks (each must be reported once), hundreds of hits per query.
    rng = np.random.default_rng(7)
    base = rng.integers(0, 2**64, size=4, dtype=np.uint64)
    words = np.array([flip(base, int(rng.integers(0, 45)), rng) for _ in range(3000)])
    entries = list(zip(to_hex(words), range(3000), strict=True))
    scan = PdqIndex.build(entries, multi_index=False)
    multi = PdqIndex.build(entries, multi_index=True)
    query_words = np.vstack([base, words[:20]])
    queries = to_hex(query_words)
    for threshold in (0, 10, 31, 40, 70):
        expected = [brute_force(words, np.arange(3000), q, threshold) for q in query_words]
        assert multi.query_many(queries, threshold) == expected
        assert scan.query_many(queries, threshold) == expected
    assert len(multi.query(queries[0], 31)) > 500


def test_duplicate_hashes_with_different_ids_are_all_returned() -> None:
    rng = np.random.default_rng(3)
    words = rng.integers(0, 2**64, size=(200, 4), dtype=np.uint64, endpoint=False)
    hashes = to_hex(words)
    entries = [(h, i) for i, h in enumerate(hashes)] + [(hashes[5], 900), (hashes[5], 2)]
    near = to_hex(flip(words[5], 4, rng)[None, :])[0]
    for multi_index in (False, True):
        index = PdqIndex.build(entries, multi_index=multi_index)
        assert index.query(hashes[5], 0) == [(2, 0), (5, 0), (900, 0)]
        assert index.query(near, 31) == [(2, 4), (5, 4), (900, 4)]
        assert index.query(near.upper(), 3) == []


def test_an_empty_index_finds_nothing() -> None:
    hashes = to_hex(np.ones((2, 4), np.uint64))
    for index in (PdqIndex(), PdqIndex.build([]), PdqIndex.build([], multi_index=True)):
        assert len(index) == 0
        assert index.query(hashes[0], 256) == []
        assert index.query_many(hashes, 31) == [[], []]


def test_bad_hashes_are_refused() -> None:
    good = "f" * 64
    bad = ["f" * 63, "f" * 65, "g" + "f" * 63, "ff " + "f" * 61, "é" + "f" * 63, ""]
    for multi_index in (False, True):
        index = PdqIndex.build([(good, 1)], multi_index=multi_index)
        assert index.query(good.upper(), 0) == [(1, 0)]
        for hex_hash in bad:
            with pytest.raises(ValueError):
                index.query(hex_hash, 31)
            with pytest.raises(ValueError):
                index.query_many([good, hex_hash], 31)
            with pytest.raises(ValueError):
                PdqIndex.build([(good, 1), (hex_hash, 2)], multi_index=multi_index)


def test_hashes_added_one_by_one_are_found_as_after_a_build(bank: Bank) -> None:
    # A built multi-index, then 5,000 hashes added in small deltas: tails are sealed into
    # segments and segments merged, and every lookup answers what one build of all answers.
    first, later = 20_000, 25_000
    index = PdqIndex.build(zip(to_hex(bank.words[:first]), bank.ids[:first].tolist(), strict=True))
    hexes, added = to_hex(bank.words[first:later]), bank.ids[first:later].tolist()
    for start in range(0, len(hexes), 7):
        index.add(zip(hexes[start : start + 7], added[start : start + 7], strict=True))
    assert len(index) == later and 1 < index.segments <= 6
    words, ids = bank.words[:later], bank.ids[:later]
    queries = np.vstack([bank.words[first : first + 20], bank.queries])
    expected = [brute_force(words, ids, q, 31) for q in queries]
    assert index.query_many(to_hex(queries), 31) == expected


def test_removed_hashes_are_masked_then_dropped_when_merged(bank: Bank) -> None:
    small = MULTI_INDEX_MIN_SIZE
    n = 3 * small
    hexes, ids = to_hex(bank.words[:n]), bank.ids[:n].tolist()
    pairs = list(zip(hexes, ids, strict=True))
    index = PdqIndex.build(pairs[:small])
    gone = [ids[3], ids[small + 1]]
    index.add(pairs[small : small + 10])
    assert index.remove([*gone, -1]) == 2 and index.remove(gone) == 0
    assert index.query(hexes[3], 0) == [] and index.query(hexes[small + 1], 0) == []
    assert index.query(hexes[4], 0) == [(ids[4], 0)]
    assert len(index) == small + 8
    # the tail fills up, is sealed and merged with the built segment: the masked rows go
    index.add(pairs[small + 10 :])
    assert index.segments == 1 and len(index) == n - 2
    assert index.nbytes < PdqIndex.build(pairs).nbytes
    assert index.query(hexes[3], 0) == [] and index.query(hexes[n - 1], 0) == [(ids[n - 1], 0)]
