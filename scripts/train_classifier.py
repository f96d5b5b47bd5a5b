"""Train the packaged text classifier from ../shared/data (train.csv only) and score it on test.csv.

Usage: .venv/bin/python scripts/train_classifier.py [--data ../shared/data] [--evaluate-only]

Labels: hate_speech and abusive (Ibrohim & Budi's Indonesian tweets, columns HS and Abusive) and
fraud (the Indonesian SMS collection, Label 1). Thresholds are chosen by 5-fold cross-validation on
the training split (the F1-best threshold per label); test.csv is read only to report the scores.
Needs scikit-learn (a development dependency); the run-time model is numpy only.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import cross_val_predict

from tanggap.detectors.classifier import BUCKETS, MODEL_FILE, Model, features

OUT = Path(__file__).parents[1] / "src" / "tanggap" / "detectors" / MODEL_FILE
C = 4.0


def read(path: Path, text_column: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row.get(text_column)]


def matrix(texts: list[str]) -> csr_matrix:
    rows, cols, values = [], [], []
    for i, text in enumerate(texts):
        for bucket, value in features(text).items():
            rows.append(i)
            cols.append(bucket)
            values.append(value)
    return csr_matrix((values, (rows, cols)), shape=(len(texts), BUCKETS), dtype=np.float32)


def datasets(root: Path, split: str) -> dict[str, tuple[list[str], np.ndarray]]:
    tweets = read(root / "id-hate-abusive" / f"{split}.csv", "Tweet")
    sms = read(root / "id-sms-fraud" / f"{split}.csv", "Teks")
    return {
        "hate_speech": ([r["Tweet"] for r in tweets], np.array([int(r["HS"]) for r in tweets])),
        "abusive": ([r["Tweet"] for r in tweets], np.array([int(r["Abusive"]) for r in tweets])),
        "fraud": ([r["Teks"] for r in sms], np.array([int(r["Label"] == "1") for r in sms])),
    }


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    candidates = np.linspace(0.2, 0.8, 25)
    f1s = [
        precision_recall_fscore_support(y, p >= t, average="binary", zero_division=0)[2]
        for t in candidates
    ]
    return float(candidates[int(np.argmax(f1s))])


def train(root: Path) -> Model:
    labels, weights, bias, thresholds = [], [], [], []
    for label, (texts, y) in datasets(root, "train").items():
        x = matrix(texts)
        model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced", solver="liblinear")
        cv = cross_val_predict(model, x, y, cv=5, method="predict_proba")[:, 1]
        threshold = best_threshold(y, cv)
        model.fit(x, y)
        labels.append(label)
        weights.append(model.coef_[0].astype(np.float32))
        bias.append(float(model.intercept_[0]))
        thresholds.append(threshold)
        print(
            f"{label}: {len(texts)} training texts, threshold {threshold:.3f} (5-fold CV on train)"
        )
    trained = Model(
        tuple(labels),
        np.stack(weights),
        np.array(bias, np.float32),
        np.array(thresholds, np.float32),
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        labels=np.array(labels),
        weights=trained.weights,
        bias=trained.bias,
        thresholds=trained.thresholds,
    )
    return trained


def evaluate(root: Path, model: Model) -> None:
    print("label         precision  recall   f1     support (test.csv)")
    for label, (texts, y) in datasets(root, "test").items():
        column = model.labels.index(label)
        predicted = np.array(
            [model.scores(t)[label] >= model.thresholds[column] for t in texts], dtype=int
        )
        p, r, f, _ = precision_recall_fscore_support(
            y, predicted, average="binary", zero_division=0
        )
        print(f"{label:<13} {p:9.3f} {r:8.3f} {f:6.3f}   {int(y.sum())}/{len(y)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--evaluate-only", action="store_true")
    args = parser.parse_args()
    if args.evaluate_only:
        from tanggap.detectors.classifier import packaged

        model = packaged()
        assert model is not None, "no packaged model; train it first"
    else:
        model = train(args.data)
    evaluate(args.data, model)


if __name__ == "__main__":
    main()
