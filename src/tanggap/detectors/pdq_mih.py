"""Multi-index hashing for PDQ hashes (Norouzi, Punjani and Fleet, 2012): exact Hamming range
search over millions of 256-bit hashes on one core.

The 256 bits are cut into 16 chunks of 16 bits. Two hashes within ``r`` bits differ, by the
pigeonhole principle, in at most ``r // 16`` bits of some chunk: probing, in each chunk's table,
the query's chunk value and every value within that radius finds every stored hash within ``r``
(plus candidates to verify). A stored hash is reported only from the first chunk within the
radius, so nothing is reported twice.

Layout: for each chunk, the stored hashes sorted by that chunk's value, so that a probed bucket is
a contiguous run of memory that is scanned, not gathered. Each run holds only the 128-bit half of
the hash that does not contain the chunk (16 bytes per entry): at ``r <= 47`` a random 128-bit
half is within ``r`` with a probability below 0.3 %, so the other half is read, from the hashes in
their original order, for almost nothing but true matches. The scan prefetches the next buckets
ahead of itself (1.6x faster at 10 M hashes than without). Memory: 16 x (16 + 4) bytes per hash
for the runs and their row numbers, plus the 32-byte hashes: 352 bytes per hash (3.5 GB at 10 M).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.base import BaseContext
from numba.core.typing import Signature
from numba.extending import intrinsic

CHUNKS = 16
CHUNK_VALUES = 1 << 16
# Largest probe radius per chunk (thresholds up to 47): 16 x 137 probes per query. At radius 3
# (thresholds up to 63) a 128-bit half passes the first check half the time and every such entry
# costs a random read: a full scan is faster (measured at 10 M: 28 lookups/s against 11).
MAX_RADIUS = 2
# How far, in 16-byte entries, the scan prefetches ahead of itself (8 KiB: best of 64..1024).
PREFETCH_AHEAD = 512


def _prefetch_typing(
    typingctx: object, array: types.Array, row: types.Integer
) -> tuple[Signature, Callable[..., object]]:
    """Hint the processor to fetch ``array[row, 0]`` into its caches (``llvm.prefetch``)."""

    def codegen(
        context: BaseContext, builder: ir.IRBuilder, signature: Signature, args: list[ir.Value]
    ) -> object:
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1], zero], wraparound=False
        )
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32])
        function = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read, high temporal locality, data cache
        builder.call(function, [pointer, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, row), codegen


# The stubs type an intrinsic by its typing function; called from compiled code it takes two.
_prefetch = cast("Callable[[np.ndarray, int], None]", intrinsic(_prefetch_typing))


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> np.int64:
    # LLVM turns this exact sequence into one popcnt instruction.
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, inline="always")
def _chunk(words: np.ndarray, row: int, chunk: int) -> np.uint64:
    return (words[row, chunk >> 2] >> np.uint64(48 - 16 * (chunk & 3))) & np.uint64(0xFFFF)


# The kernels write hits into a caller's buffer of (query, row, distance) rows and stop before a
# query whose hits would not fit, returning (queries done, hits written): the caller keeps them,
# makes room and goes on. (Growing arrays inside the loop makes numba count references on every
# candidate: 10x slower.)


@njit(cache=True, nogil=True)
def _mih_search(
    halves: np.ndarray,
    rows: np.ndarray,
    hashes: np.ndarray,
    offsets: np.ndarray,
    queries: np.ndarray,
    first_query: int,
    threshold: int,
    masks: np.ndarray,
    radius: int,
    out: np.ndarray,
) -> tuple[int, int]:
    """Write every stored hash within ``threshold`` of the queries, from ``first_query`` on."""
    n_masks = masks.shape[0]
    starts = np.empty(CHUNKS * n_masks, np.int64)
    ends = np.empty(CHUNKS * n_masks, np.int64)
    chunks = np.empty(CHUNKS * n_masks, np.int64)
    found = 0
    for q in range(first_query, queries.shape[0]):
        found_before = found
        buckets = 0
        for c in range(CHUNKS):
            value = _chunk(queries, q, c)
            for m in range(n_masks):
                key = np.int64(value ^ masks[m])
                if offsets[c, key + 1] > offsets[c, key]:
                    starts[buckets] = offsets[c, key]
                    ends[buckets] = offsets[c, key + 1]
                    chunks[buckets] = c
                    buckets += 1
        # A prefetch cursor runs PREFETCH_AHEAD entries ahead of the scan, across buckets.
        ahead_bucket = 0
        ahead = starts[0] if buckets else 0
        for _ in range(PREFETCH_AHEAD // 4):
            if ahead_bucket >= buckets:
                break
            _prefetch(halves, ahead)
            ahead += 4
            if ahead >= ends[ahead_bucket]:
                ahead_bucket += 1
                if ahead_bucket < buckets:
                    ahead = starts[ahead_bucket]
        for b in range(buckets):
            c = chunks[b]
            near = 1 - (c >> 3)  # the half of the hash without chunk c: its words 2n, 2n + 1
            far = 1 - near
            x0 = queries[q, 2 * near]
            x1 = queries[q, 2 * near + 1]
            for p in range(starts[b], ends[b]):
                if (p & 3) == 0 and ahead_bucket < buckets:
                    _prefetch(halves, ahead)
                    ahead += 4
                    if ahead >= ends[ahead_bucket]:
                        ahead_bucket += 1
                        if ahead_bucket < buckets:
                            ahead = starts[ahead_bucket]
                distance = _popcount(halves[p, 0] ^ x0) + _popcount(halves[p, 1] ^ x1)
                if distance > threshold:
                    continue
                row = rows[p]
                distance += _popcount(hashes[row, 2 * far] ^ queries[q, 2 * far])
                distance += _popcount(hashes[row, 2 * far + 1] ^ queries[q, 2 * far + 1])
                if distance > threshold:
                    continue
                first = True
                for earlier in range(c):
                    if (
                        _popcount(_chunk(hashes, row, earlier) ^ _chunk(queries, q, earlier))
                        <= radius
                    ):
                        first = False  # found (or to be found) through that chunk
                        break
                if not first:
                    continue
                if found == out.shape[0]:
                    return q, found_before
                out[found, 0] = q
                out[found, 1] = row
                out[found, 2] = distance
                found += 1
    return queries.shape[0], found


@njit(cache=True, nogil=True)
def _scan_search(
    hashes: np.ndarray,
    queries: np.ndarray,
    first_query: int,
    threshold: int,
    out: np.ndarray,
) -> tuple[int, int]:
    """Write every stored hash within ``threshold`` of the queries, by a full scan."""
    found = 0
    for q in range(first_query, queries.shape[0]):
        found_before = found
        q0, q1, q2, q3 = queries[q, 0], queries[q, 1], queries[q, 2], queries[q, 3]
        for row in range(hashes.shape[0]):
            distance = (
                _popcount(hashes[row, 0] ^ q0)
                + _popcount(hashes[row, 1] ^ q1)
                + _popcount(hashes[row, 2] ^ q2)
                + _popcount(hashes[row, 3] ^ q3)
            )
            if distance <= threshold:
                if found == out.shape[0]:
                    return q, found_before
                out[found, 0] = q
                out[found, 1] = row
                out[found, 2] = distance
                found += 1
    return queries.shape[0], found


def _collect(
    search: Callable[[int, np.ndarray], tuple[int, int]], n_queries: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a kernel to the last query, making room for the hits as needed."""
    out = np.empty((max(64, 4 * n_queries), 3), dtype=np.int64)
    parts = []
    done = 0
    while True:
        next_query, found = search(done, out)
        parts.append(out[:found].copy() if next_query < n_queries else out[:found])
        if next_query == n_queries:
            break
        if next_query == done:  # one query has more hits than the buffer holds
            out = np.empty((2 * out.shape[0], 3), dtype=np.int64)
        done = next_query
    hits = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return hits[:, 0], hits[:, 1], hits[:, 2]


@njit(cache=True, nogil=True)
def _fill_chunk(
    hashes: np.ndarray,
    chunk: int,
    base: int,
    halves: np.ndarray,
    rows: np.ndarray,
    offsets: np.ndarray,
) -> None:
    """Lay the hashes out by the value of one chunk (a counting sort, stable) from ``base`` on:
    their halves without that chunk into ``halves``, their rows into ``rows``, the bounds of each
    value's bucket into ``offsets``."""
    near = 1 - (chunk >> 3)
    cursor = np.zeros(CHUNK_VALUES + 1, np.int64)
    for row in range(hashes.shape[0]):
        cursor[np.int64(_chunk(hashes, row, chunk)) + 1] += 1
    cursor[0] = base
    for value in range(CHUNK_VALUES):
        cursor[value + 1] += cursor[value]
    offsets[:] = cursor
    for row in range(hashes.shape[0]):
        key = np.int64(_chunk(hashes, row, chunk))
        p = cursor[key]
        cursor[key] = p + 1
        halves[p, 0] = hashes[row, 2 * near]
        halves[p, 1] = hashes[row, 2 * near + 1]
        rows[p] = row


def chunk_masks(radius: int) -> np.ndarray:
    """Return every 16-bit value with at most ``radius`` bits set (the probes of one chunk)."""
    values = np.arange(CHUNK_VALUES, dtype=np.uint64)
    return values[np.bitwise_count(values) <= radius]


class MultiIndex:
    """Multi-index hashing over hashes given as an (n, 4) array of big-endian 64-bit words."""

    def __init__(self, hashes: np.ndarray) -> None:
        n = hashes.shape[0]
        if n >= 2**31:
            raise ValueError("a multi-index holds fewer than 2**31 hashes")
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        self.halves = np.empty((CHUNKS * n, 2), dtype=np.uint64)
        self.rows = np.empty(CHUNKS * n, dtype=np.int32)
        self.offsets = np.empty((CHUNKS, CHUNK_VALUES + 1), dtype=np.int64)
        for c in range(CHUNKS):
            _fill_chunk(self.hashes, c, c * n, self.halves, self.rows, self.offsets[c])
        self._masks = {radius: chunk_masks(radius) for radius in range(MAX_RADIUS + 1)}

    @property
    def nbytes(self) -> int:
        """Return the memory held by the index's arrays."""
        return self.hashes.nbytes + self.halves.nbytes + self.rows.nbytes + self.offsets.nbytes

    def search(
        self, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (query, row, distance) arrays of every stored hash within ``threshold`` bits;
        exact for any threshold (a full scan past what probing covers cheaply)."""
        if threshold < 0:
            nothing = np.zeros(0, dtype=np.int64)
            return nothing, nothing, nothing
        radius = threshold // CHUNKS
        if radius > MAX_RADIUS:
            return _collect(
                lambda first, out: _scan_search(self.hashes, queries, first, threshold, out),
                len(queries),
            )
        masks = self._masks[radius]
        return _collect(
            lambda first, out: _mih_search(
                self.halves,
                self.rows,
                self.hashes,
                self.offsets,
                queries,
                first,
                threshold,
                masks,
                radius,
                out,
            ),
            len(queries),
        )
