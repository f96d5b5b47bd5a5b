"""The live rule set of a process: loaded at start, reloaded on demand or when files change;
a broken file is refused and the rules in force stay."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from tanggap.detectors.rules import RuleError, RuleSet, load_dir
from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category

log = structlog.get_logger(__name__)
CHECK_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: the rules now in force, and the refusal if the files were bad."""

    rules: int
    files: int
    error: str | None


def check_categories(rules: RuleSet, policy: Policy) -> None:
    """Refuse rules naming a category the policy does not have."""
    for rule in rules.rules:
        if find_category(policy, rule.category) is None:
            raise RuleError(f"rule {rule.id}: unknown category {rule.category!r}")


class LiveRules:
    """Holds the compiled rules; reloads them when the directory's files change."""

    def __init__(self, directory: Path, policy: Policy):
        self.directory = directory
        self.policy = policy
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._checked = 0.0
        self.current = RuleSet()
        self.last_error: str | None = None
        outcome = self.reload()
        if outcome.error:
            raise RuleError(outcome.error)

    def _files_stamp(self) -> tuple[tuple[str, float], ...]:
        try:
            return tuple(sorted((p.name, p.stat().st_mtime) for p in self.directory.glob("*.yaml")))
        except OSError:
            return ()

    def reload(self) -> ReloadOutcome:
        """Load the directory again; on any error keep the rules in force and say why."""
        with self._lock:
            stamp = self._files_stamp()
            try:
                fresh = load_dir(self.directory)
                check_categories(fresh, self.policy)
            except RuleError as exc:
                self.last_error = str(exc)
                self._stamp = stamp  # do not retry the same broken files on every post
                log.warning("rules.refused", error=self.last_error)
                return ReloadOutcome(len(self.current.rules), len(self.current.sources), str(exc))
            self.current, self._stamp, self.last_error = fresh, stamp, None
            return ReloadOutcome(len(fresh.rules), len(fresh.sources), None)

    def fresh(self) -> RuleSet:
        """Return the rules in force, reloading first when the files changed (checked every
        few seconds at most)."""
        now = time.monotonic()
        if now - self._checked >= CHECK_EVERY_SECONDS:
            self._checked = now
            if self._files_stamp() != self._stamp:
                self.reload()
        return self.current
