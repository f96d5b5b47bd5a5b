"""The live rule set of a process: loaded at start, reloaded on demand, when the files change, or
when another process recorded a newer rule set in the database (``rule_set``); a broken file is
refused and the rules in force stay."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tanggap.detection.rule_set import Version, VersionStore, files_digest
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
    """Holds the compiled rules; reloads them when the directory's files change or when the
    version recorded in the database (``store``, if given) moves.

    Two ways to look, every few seconds at most: ``fresh(session=...)`` inside a caller's
    transaction (ingest, scans) only reads the version, through that transaction;
    ``fresh()`` with no transaction open (a background round) also records the version of
    rules loaded here that is not recorded yet (at start, or a change of the files noticed
    here). A reload that follows the database records nothing, so two processes that read
    different files cannot make each other reload without end."""

    def __init__(
        self,
        directory: Path,
        policy: Policy,
        store: VersionStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.directory = directory
        self.policy = policy
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._checked: float | None = None
        self.current = RuleSet()
        self.digest = ""  # of the files the rules in force were loaded from
        self.version: Version | None = None  # recorded in the database, as last seen
        self.unrecorded = True  # loaded here and not recorded yet (the database may not be
        self.last_error: str | None = None  # migrated yet at start: the first look records)
        outcome = self._load()
        if outcome.error:
            raise RuleError(outcome.error)

    def _files_stamp(self) -> tuple[tuple[str, float], ...]:
        try:
            return tuple(sorted((p.name, p.stat().st_mtime) for p in self.directory.glob("*.yaml")))
        except OSError:
            return ()

    def _load(self) -> ReloadOutcome:
        """Load the directory again; on any error keep the rules in force and say why."""
        with self._lock:
            stamp = self._files_stamp()
            digest = files_digest(self.directory)
            try:
                fresh = load_dir(self.directory)
                check_categories(fresh, self.policy)
            except RuleError as exc:
                self.last_error = str(exc)
                self._stamp = stamp  # do not retry the same broken files on every post
                log.warning("rules.refused", error=self.last_error)
                return ReloadOutcome(len(self.current.rules), len(self.current.sources), str(exc))
            self.current, self._stamp, self.digest, self.last_error = fresh, stamp, digest, None
            self.unrecorded = True
            return ReloadOutcome(len(fresh.rules), len(fresh.sources), None)

    def reload(self, session: Session | None = None) -> ReloadOutcome:
        """Load the directory again and, if the rules load, record their version for every
        process (in ``session``'s transaction if given, else in one of its own); on any error
        keep the rules in force, record nothing, and say why."""
        outcome = self._load()
        if outcome.error is None:
            self._record(session)
        return outcome

    def _record(self, session: Session | None = None) -> None:
        if self.store is None:
            return
        self.version = self.store.record(self.digest, session=session)
        self.unrecorded = False

    def follow(self, session: Session | None = None) -> bool:
        """Reload when another process recorded a newer rule set; tell whether it did. Without
        ``session`` (no transaction open), first record the rules loaded here if they are not
        recorded yet."""
        if self.store is None:
            return False
        if session is None and self.unrecorded:
            recorded = self.store.current()
            if recorded is None or recorded.digest != self.digest:
                self._record()
                return False
            self.unrecorded = False
        recorded = self.store.current(session=session)
        if recorded is None:
            return False
        if self.version is None or recorded == self.version:
            self.version = recorded  # (at the first look the rules were just loaded)
            return False
        outcome = self._load()  # a broken file is refused here as where it was recorded
        self.version, self.unrecorded = recorded, False
        if outcome.error is None and self.digest != recorded.digest:
            log.warning("rules.files_differ", recorded=recorded.digest, here=self.digest)
        return True

    def fresh(self, session: Session | None = None) -> RuleSet:
        """Return the rules in force, reloading first when the files changed or another
        process recorded a newer rule set (both checked every few seconds at most). Inside a
        transaction, pass its ``session``: the version is read through it, nothing written."""
        now = self.clock()
        if self._checked is None or now - self._checked >= CHECK_EVERY_SECONDS:
            self._checked = now
            if self._files_stamp() != self._stamp:
                self._load()
            try:
                self.follow(session)
            except SQLAlchemyError:  # the rules in force stay; the next check tries again
                log.exception("rules.version_unreadable")
        return self.current
