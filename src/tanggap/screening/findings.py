"""What screening finds on a post before it is stored: its signals, and what is kept for
storing them once the post has its id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tanggap.detection.service import NewSignal
from tanggap.detectors.minhash import Signature
from tanggap.detectors.rules import RuleHit
from tanggap.posts.schemas import MediaIn

# The policy category a classifier label points to (abusive language is a signal, no category).
CLASSIFIER_CATEGORY = {"hate_speech": "hate_speech", "fraud": "fraud"}


@dataclass(frozen=True)
class Found:
    """What screening found on a post that acts on nothing: its text fingerprint (None without
    text) and its signals, stored once the post has its id."""

    text: Signature | None
    signals: list[NewSignal]
    media: list[MediaIn] = field(default_factory=list)
    banks_seen: int = 0  # the newest bank entry when the post was screened


def rule_signals(hits: Iterable[RuleHit]) -> list[NewSignal] | None:
    """The signals of rules that only flag; None when a rule does more (the post acts)."""
    signals: dict[str, NewSignal] = {}
    for hit in hits:
        effect = hit.rule.effect
        if effect.kind != "flag":
            return None
        source = f"rule:{hit.rule.id}"
        signals.setdefault(
            source,
            NewSignal(
                kind="rule",
                source=source,
                score=effect.score,
                detail={
                    "matched": hit.matched,
                    "category": hit.rule.category,
                    "effect": "flag",
                },
            ),
        )
    return list(signals.values())


def classifier_signals(flagged: dict[str, float]) -> list[NewSignal]:
    """The signals of the classifier's labels over their thresholds."""
    return [
        NewSignal(
            kind="classifier",
            source=f"classifier:{label}",
            score=round(score, 3),
            detail={"label": label, "category": CLASSIFIER_CATEGORY.get(label)},
        )
        for label, score in flagged.items()
    ]
