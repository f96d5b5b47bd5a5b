"""Benchmark: PDQ lookups against banks of random hashes on one core, Tanggap's PdqIndex beside
threatexchange's stock PDQ index (the one HMA builds).

Usage: PYTHONPATH=. .venv/bin/python bench/pdq_lookup.py [--sizes 1000000,10000000]
       [--queries 2000] [--stock-queries N] [--check 40] [--rounds 3] [--no-stock] [--crossover]

Baseline: ``pip install threatexchange==1.2.17 faiss-cpu``. HMA builds its index with
``signal_type.get_index_cls()``; for PDQ that is ``threatexchange.signal_type.pdq.pdq_index.
PDQIndex`` (faiss ``IndexBinaryMultiHash``, 16 tables of 16 bits, nflip = 31 // 16), queried at
its threshold, 31. The process is pinned to one core; faiss runs one thread.

Banks: seeded random 256-bit hashes, ids 0..n-1. Queries: half near copies of stored hashes at
a random distance 0..31 (the ground truth: each must come back with its distance), half random.
Figures per size: build time and memory, lookups/s one query at a time with p50/p99 latency,
batched lookups/s, recall of the planted copies, and an exact comparison with a brute-force scan
on a sample of queries (whose speed is what PdqIndex did before for every bank).

``--crossover`` times the scan and the multi-index of PdqIndex on small banks instead.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from tanggap.detectors.pdq_index import PdqIndex

THRESHOLD = 31
# Beyond what 16 chunks cover with one flipped bit: 47 probes two bits a chunk, 64 scans it all.
WIDER_THRESHOLDS = (47, 64)
Hits = list[tuple[int, int]]


def pin_to_one_core() -> int:
    """Run this process, and every thread it starts, on one core."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[name] = "1"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def rss() -> int:
    """Return the resident memory of this process in bytes."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def to_hex(words: np.ndarray) -> list[str]:
    """Write (n, 4) big-endian words as 64-digit hashes."""
    hashes: list[str] = []
    for start in range(0, len(words), 1 << 20):
        text = words[start : start + (1 << 20)].astype(">u8").tobytes().hex()
        hashes.extend(text[i : i + 64] for i in range(0, len(text), 64))
    return hashes


@dataclass
class Queries:
    words: np.ndarray
    hexes: list[str]
    planted: list[tuple[int, int]]  # (stored id, distance) of the first len(planted) queries


def make_queries(bank: np.ndarray, count: int, rng: np.random.Generator) -> Queries:
    """Half near copies of stored hashes at a random distance <= 31, half random hashes."""
    n_planted = count // 2
    sources = rng.integers(0, len(bank), size=n_planted)
    words = rng.integers(0, 2**64, size=(count, 4), dtype=np.uint64, endpoint=False)
    planted = []
    for q, source in enumerate(sources):
        distance = int(rng.integers(0, THRESHOLD + 1))
        words[q] = bank[source]
        for bit in rng.choice(256, size=distance, replace=False):
            words[q, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
        planted.append((int(source), distance))
    return Queries(words, to_hex(words), planted)


@dataclass
class Figures:
    name: str
    build_s: float = 0.0
    memory: int = 0
    memory_note: str = ""
    first_query_ms: float = 0.0
    queries: int = 0
    single_rate: float = 0.0
    p50_us: float = 0.0
    p99_us: float = 0.0
    batch_rate: float = 0.0
    recall: float = 0.0
    exact: str = ""
    notes: list[str] = field(default_factory=list)
    wider: dict[int, float] = field(default_factory=dict)  # threshold -> lookups/s


def time_single(
    query: Callable[[str], Hits], hexes: Sequence[str], rounds: int
) -> tuple[float, float, float, list[Hits]]:
    """Return lookups/s (median round), p50 and p99 latency in microseconds, the hits."""
    latencies: list[int] = []
    rates = []
    results: list[Hits] = []
    for _ in range(rounds):
        results = []
        started = time.perf_counter()
        for hex_hash in hexes:
            before = time.perf_counter_ns()
            results.append(query(hex_hash))
            latencies.append(time.perf_counter_ns() - before)
        rates.append(len(hexes) / (time.perf_counter() - started))
    quantiles = np.percentile(np.array(latencies) / 1000, [50, 99])
    return statistics.median(rates), float(quantiles[0]), float(quantiles[1]), results


def time_batch(query_many: Callable[[list[str]], object], hexes: list[str], rounds: int) -> float:
    """Return lookups/s of one batched call (median round)."""
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        query_many(hexes)
        rates.append(len(hexes) / (time.perf_counter() - started))
    return statistics.median(rates)


def brute_force(bank: np.ndarray, query: np.ndarray) -> Hits:
    """Every stored hash within the threshold, by comparing with each (ids are row numbers)."""
    distances = np.bitwise_count(bank ^ query).sum(axis=1)
    rows = np.nonzero(distances <= THRESHOLD)[0]
    return sorted(((int(r), int(distances[r])) for r in rows), key=lambda h: (h[1], h[0]))


def check(
    figures: Figures,
    chosen: Sequence[int],
    results: list[Hits],
    queries: Queries,
    truth: dict[int, Hits],
) -> None:
    """Fill in the recall of the planted copies and the agreement with brute force on the sample
    (``chosen``: which queries ``results`` answer)."""
    answered = list(zip(chosen, results, strict=True))
    planted = [queries.planted[q] in hits for q, hits in answered if q < len(queries.planted)]
    figures.recall = sum(planted) / len(planted) if planted else float("nan")
    checked = [
        sorted(hits, key=lambda h: (h[1], h[0])) == truth[q] for q, hits in answered if q in truth
    ]
    figures.exact = f"{sum(checked)}/{len(checked)}"


def run_ours(
    bank: np.ndarray, hexes: list[str], queries: Queries, truth: dict[int, Hits], rounds: int
) -> Figures:
    """Build PdqIndex and time it."""
    figures = Figures("tanggap PdqIndex")
    gc.collect()
    before = rss()
    started = time.perf_counter()
    index = PdqIndex.build(zip(hexes, range(len(hexes)), strict=True))
    figures.build_s = time.perf_counter() - started
    gc.collect()
    figures.memory = index.nbytes
    figures.memory_note = f"arrays; process grew {(rss() - before) / 1e9:.2f} GB"
    figures.notes.append(f"engine: {index.engine}")
    started = time.perf_counter()
    index.query(queries.hexes[-1], THRESHOLD)
    figures.first_query_ms = (time.perf_counter() - started) * 1000
    figures.queries = len(queries.hexes)
    figures.single_rate, figures.p50_us, figures.p99_us, results = time_single(
        lambda h: index.query(h, THRESHOLD), queries.hexes, rounds
    )
    figures.batch_rate = time_batch(
        lambda hs: index.query_many(hs, THRESHOLD), queries.hexes, rounds
    )
    if index.query_many(queries.hexes, THRESHOLD) != results:
        figures.notes.append("BATCHED RESULTS DIFFER FROM SINGLE ONES")
    check(figures, range(len(results)), results, queries, truth)
    for threshold in WIDER_THRESHOLDS:
        figures.wider[threshold] = time_batch(
            partial(query_each, index, threshold=threshold), queries.hexes[:100], 1
        )
    return figures


def query_each(index: PdqIndex, hexes: list[str], threshold: int) -> list[Hits]:
    """Look the hashes up one at a time."""
    return [index.query(h, threshold) for h in hexes]


def run_stock(hexes: list[str], queries: Queries, truth: dict[int, Hits], count: int) -> Figures:
    """Build threatexchange's PDQ index the way HMA does and time it."""
    import faiss
    from threatexchange.signal_type.pdq.signal import PdqSignal

    faiss.omp_set_num_threads(1)
    index_cls = PdqSignal.get_index_cls()
    figures = Figures(f"stock {index_cls.__module__}.{index_cls.__name__}")
    gc.collect()
    before = rss()
    started = time.perf_counter()
    index = index_cls.build(zip(hexes, range(len(hexes)), strict=True))
    figures.build_s = time.perf_counter() - started
    gc.collect()
    figures.memory = rss() - before
    figures.memory_note = "process grew (faiss tables and the wrapper's Python objects)"
    n_planted = len(queries.planted)
    chosen = list(range(len(queries.hexes)))
    if count < len(chosen):  # as many planted as random ones
        chosen = chosen[: count // 2] + chosen[n_planted : n_planted + count - count // 2]
    selected = [queries.hexes[q] for q in chosen]
    started = time.perf_counter()
    index.query(selected[-1])
    figures.first_query_ms = (time.perf_counter() - started) * 1000
    figures.queries = len(selected)
    if count < len(queries.hexes):
        figures.notes.append(f"{count} of the {len(queries.hexes)} queries (half planted)")

    def query(hex_hash: str) -> Hits:
        return [(int(m.metadata), int(m.similarity_info.distance)) for m in index.query(hex_hash)]

    figures.single_rate, figures.p50_us, figures.p99_us, results = time_single(query, selected, 1)
    figures.batch_rate = time_batch(
        lambda hs: index.index.search_with_distance_in_result(hs, THRESHOLD), selected, 1
    )
    figures.notes.append("batched: its PDQMultiHashIndex.search_with_distance_in_result")
    check(figures, chosen, results, queries, truth)
    return figures


def run_size(size: int, args: argparse.Namespace) -> list[Figures]:
    """Generate a bank of ``size`` hashes and measure both indexes against it."""
    rng = np.random.default_rng(20261124 + size)
    started = time.perf_counter()
    bank = rng.integers(0, 2**64, size=(size, 4), dtype=np.uint64, endpoint=False)
    hexes = to_hex(bank)
    queries = make_queries(bank, args.queries, rng)
    print(f"\n== {size:,} hashes (generated in {time.perf_counter() - started:.1f} s) ==")
    n_planted = len(queries.planted)
    half = args.check // 2
    sample = list(range(min(half, n_planted))) + list(
        range(n_planted, min(n_planted + args.check - half, len(queries.hexes)))
    )
    started = time.perf_counter()
    truth = {q: brute_force(bank, queries.words[q]) for q in sample}
    scan_rate = len(sample) / (time.perf_counter() - started)
    print(f"brute-force numpy scan (what PdqIndex did before): {scan_rate:,.1f} lookups/s")
    results = [run_ours(bank, hexes, queries, truth, args.rounds)]
    gc.collect()
    if not args.no_stock:
        count = args.stock_queries or len(queries.hexes)
        results.append(run_stock(hexes, queries, truth, count))
        gc.collect()
    for figures in results:
        print(f"-- {figures.name}")
        print(f"   build {figures.build_s:.1f} s, memory {figures.memory / 1e9:.2f} GB")
        print(f"   ({figures.memory_note})")
        print(f"   first query {figures.first_query_ms:.1f} ms; {figures.queries} queries:")
        print(
            f"   one at a time {figures.single_rate:,.0f} lookups/s, "
            f"p50 {figures.p50_us:.0f} us, p99 {figures.p99_us:.0f} us"
        )
        print(f"   batched {figures.batch_rate:,.0f} lookups/s")
        print(
            f"   recall of planted copies <= {THRESHOLD}: {figures.recall:.2%}; "
            f"same as brute force on {figures.exact} sampled queries"
        )
        for note in figures.notes:
            print(f"   {note}")
        for threshold, rate in figures.wider.items():
            print(
                f"   at threshold {threshold}: {rate:,.0f} lookups/s (100 queries, one at a time)"
            )
    if len(results) == 2:
        ours, stock = results
        print(
            f"ratio ours/stock: one at a time {ours.single_rate / stock.single_rate:.1f}x, "
            f"batched {ours.batch_rate / stock.batch_rate:.1f}x, "
            f"p99 {ours.p99_us / stock.p99_us:.2f}, build {ours.build_s / stock.build_s:.2f}, "
            f"memory {ours.memory / stock.memory:.2f}"
        )
    return results


def crossover(rounds: int) -> None:
    """Time the scan and the multi-index of PdqIndex on small banks (one query at a time)."""
    print("hashes | scan us/lookup | multi-index us/lookup | scan/multi | build ms scan, multi")
    rng = np.random.default_rng(5)
    for size in (250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000):
        bank = rng.integers(0, 2**64, size=(size, 4), dtype=np.uint64, endpoint=False)
        entries = list(zip(to_hex(bank), range(size), strict=True))
        queries = make_queries(bank, 2000, rng).hexes
        timings = []
        for multi_index in (False, True):
            started = time.perf_counter()
            index = PdqIndex.build(entries, multi_index=multi_index)
            build_ms = (time.perf_counter() - started) * 1000
            index.query(queries[0], THRESHOLD)
            rate = time_single(partial(index.query, threshold=THRESHOLD), queries, rounds)[0]
            timings.append((1e6 / rate, build_ms))
        (scan_us, scan_build), (multi_us, multi_build) = timings
        print(
            f"{size:>6} | {scan_us:8.1f} | {multi_us:8.1f} | {scan_us / multi_us:5.2f} | "
            f"{scan_build:.1f}, {multi_build:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--stock-queries", type=int, default=0, help="default: all queries")
    parser.add_argument("--check", type=int, default=40, help="queries checked by brute force")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-stock", action="store_true")
    parser.add_argument("--crossover", action="store_true")
    args = parser.parse_args()
    core = pin_to_one_core()
    print(f"pinned to core {core}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.crossover:
        crossover(args.rounds)
        return
    started = time.perf_counter()
    table = [(size, run_size(size, args)) for size in map(int, args.sizes.split(","))]
    print(f"\nwhole run {time.perf_counter() - started:.0f} s; summary (markdown):\n")
    print(
        "| hashes | index | lookups/s, one at a time | p50 / p99 | batched lookups/s | recall "
        "<= 31 | same as brute force | build | memory |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, results in table:
        for f in results:
            print(
                f"| {size:,} | {f.name.split('.')[-1]} | {f.single_rate:,.0f} | "
                f"{f.p50_us:.0f} / {f.p99_us:.0f} us | {f.batch_rate:,.0f} | {f.recall:.2%} | "
                f"{f.exact} | {f.build_s:.1f} s | {f.memory / 1e9:.2f} GB |"
            )


if __name__ == "__main__":
    main()
