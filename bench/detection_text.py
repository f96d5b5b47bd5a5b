"""Benchmark: the text side of the detection pipeline, stage by stage, on real Indonesian posts.

Usage: PYTHONPATH=. .venv/bin/python bench/detection_text.py [--posts 3000] [--rounds 3]

Texts: tweets and SMS from ../shared/data/*/train.csv. Each stage runs over every text on one core
(no database): normalisation alone is the baseline; then language detection, the MinHash signature,
the packaged rules and the classifier, and all of them together, as posts per second.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from tanggap.config import DEFAULT_RULES_DIR
from tanggap.detectors import classifier
from tanggap.detectors.language import detect_language
from tanggap.detectors.minhash import signature
from tanggap.detectors.normalise import normalise
from tanggap.detectors.rules import load_dir

DATA = Path(__file__).parents[2] / "shared" / "data"


def texts(limit: int) -> list[str]:
    found = []
    for path, column in (
        (DATA / "id-hate-abusive" / "train.csv", "Tweet"),
        (DATA / "id-sms-fraud" / "train.csv", "Teks"),
    ):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            found.extend(row[column] for row in csv.DictReader(handle) if row.get(column))
    return (found * (limit // len(found) + 1))[:limit]


def rate(stage: Callable[[str], object], corpus: list[str], rounds: int) -> float:
    results = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in corpus:
            stage(text)
        results.append(len(corpus) / (time.perf_counter() - started))
    return statistics.median(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    corpus = texts(args.posts)
    rules = load_dir(DEFAULT_RULES_DIR)
    model = classifier.packaged()
    assert model is not None
    detect_language("warm the models up once before timing")

    def everything(text: str) -> None:
        language = detect_language(text)
        signature(normalise(text))
        rules.match(text, language)
        model.flagged(text)

    stages: list[tuple[str, Callable[[str], object]]] = [
        ("normalise (baseline)", normalise),
        ("language (lingua)", detect_language),
        ("minhash signature", lambda t: signature(normalise(t))),
        ("rules (packaged)", lambda t: rules.match(t, "id")),
        ("classifier", model.flagged),
        ("all of the above", everything),
    ]
    baseline = None
    print(f"{len(corpus)} texts, median of {args.rounds} rounds, one core")
    for name, stage in stages:
        per_second = rate(stage, corpus, args.rounds)
        baseline = baseline or per_second
        ratio = per_second / baseline
        print(f"{name:<22} {per_second:>9,.0f} posts/s   ratio to baseline {ratio:.2f}")


if __name__ == "__main__":
    main()
