"""Text classifiers: hashed word and character n-grams of normalised text, one logistic model per
label (pure: numpy only at run time; trained here by scripts/train_classifier.py from the shared
labelled data, the weights shipped as package data)."""

from __future__ import annotations

import itertools
import math
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from tanggap.detectors.normalise import normalise

BUCKETS = 1 << 18
MODEL_FILE = "data/classifier.npz"


@lru_cache(maxsize=200_000)
def _word_grams(word: str) -> tuple[int, ...]:
    """The CRC-32 of a word's own n-grams (the word, its character 3- and 4-grams): words
    repeat from post to post, so they are hashed once."""
    padded = f" {word} "
    grams = [f"w:{word}"]
    for n in (3, 4):
        grams.extend(f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return tuple(zlib.crc32(gram.encode()) for gram in grams)


def features(text: str, normalised: str | None = None) -> dict[int, float]:
    """Return the l2-normalised, sublinear-tf hashed n-grams of a text (``normalised``: the
    text already normalised, when the caller has it). N-grams are counted by their CRC-32 and
    then folded into BUCKETS."""
    words = (normalise(text) if normalised is None else normalised).split()
    # one count over every word's n-grams (counted in C), then the word pairs
    grams = Counter(itertools.chain.from_iterable(map(_word_grams, words)))
    grams.update(zlib.crc32(f"b:{a} {b}".encode()) for a, b in itertools.pairwise(words))
    weights: dict[int, float] = {}
    held = weights.get
    log = math.log
    for gram, count in grams.items():
        bucket = gram % BUCKETS
        weights[bucket] = held(bucket, 0.0) + 1.0 + (log(count) if count > 1 else 0.0)
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    return {k: v / norm for k, v in weights.items()}


@dataclass(frozen=True)
class Model:
    """One logistic model per label, with the threshold chosen on the training data."""

    labels: tuple[str, ...]
    weights: np.ndarray  # labels × BUCKETS
    bias: np.ndarray
    thresholds: np.ndarray

    def scores(self, text: str, normalised: str | None = None) -> dict[str, float]:
        """Return each label's probability."""
        found = features(text, normalised)
        if not found:
            return dict.fromkeys(self.labels, 0.0)
        index = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        values = np.fromiter(found.values(), dtype=np.float32, count=len(found))
        logits = self.weights[:, index] @ values + self.bias
        probabilities = 1.0 / (1.0 + np.exp(-logits))
        return {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}

    def flagged(self, text: str, normalised: str | None = None) -> dict[str, float]:
        """Return the labels whose probability passes their threshold."""
        return {
            label: score
            for (label, score), threshold in zip(
                self.scores(text, normalised).items(), self.thresholds, strict=True
            )
            if score >= threshold
        }


@lru_cache(maxsize=1)
def packaged() -> Model | None:
    """Load the model shipped with Tanggap (None when it has not been trained)."""
    source = resources.files("tanggap.detectors").joinpath(MODEL_FILE)
    if not source.is_file():
        return None
    with source.open("rb") as handle, np.load(handle) as data:
        return Model(
            labels=tuple(str(x) for x in data["labels"]),
            weights=data["weights"].astype(np.float32),
            bias=data["bias"].astype(np.float32),
            thresholds=data["thresholds"].astype(np.float32),
        )
