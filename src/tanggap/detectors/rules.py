"""Rules as data: keyword and phrase lists, regular expressions and domain lists per category and
language, compiled into one Aho–Corasick automaton plus a few regexes (pure: no database).

A rule file (YAML)::

    version: 1
    rules:
      - id: gambling.slot-promo          # stable id, shown in signals and the audit
        category: illegal_gambling
        language: id                     # optional: the rule applies to posts in this language
        keywords: ["slot gacor", "bonus new member"]   # matched on normalised text, whole words
        regex: ['\\bdepo\\s+\\d+\\s*(rb|ribu)\\b']      # matched on normalised text
        domains: ["gacor-alternatif.invalid"]          # matched on links in the raw text
        effect: {flag: 0.6}              # or {open_case: true} / {auto_remove: true}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ahocorasick
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tanggap.detectors.normalise import normalise

_DOMAIN = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})", re.IGNORECASE)


class RuleError(ValueError):
    """A rule file cannot be used; the message names the file, the line and the reason."""


class Effect(BaseModel):
    """What a match does: a signal of ``flag`` strength, a review case, or a removal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flag: float | None = Field(default=None, ge=0, le=1)
    open_case: bool = False
    auto_remove: bool = False

    @model_validator(mode="after")
    def _one_effect(self) -> Effect:
        if sum((self.flag is not None, self.open_case, self.auto_remove)) != 1:
            raise ValueError("an effect is exactly one of flag, open_case, auto_remove")
        return self

    @property
    def kind(self) -> Literal["flag", "open_case", "auto_remove"]:
        """Name the effect."""
        if self.auto_remove:
            return "auto_remove"
        return "open_case" if self.open_case else "flag"

    @property
    def score(self) -> float:
        """The signal's score: the flag's strength, or full for the acting effects."""
        return self.flag if self.flag is not None else 1.0


class Rule(BaseModel):
    """One rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{2,99}$")
    category: str
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    keywords: list[str] = Field(default_factory=list, max_length=10_000)
    regex: list[str] = Field(default_factory=list, max_length=100)
    domains: list[str] = Field(default_factory=list, max_length=10_000)
    effect: Effect

    @field_validator("regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for index, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regex[{index}] {pattern!r} does not compile: {exc}") from exc
            except (OverflowError, RecursionError) as exc:  # a{4294967296}, deep groups
                raise ValueError(f"regex[{index}] is too large or nested too deeply") from exc
        return patterns

    @model_validator(mode="after")
    def _matches_something(self) -> Rule:
        if not (self.keywords or self.regex or self.domains):
            raise ValueError("a rule needs keywords, regex or domains")
        return self


class RuleFile(BaseModel):
    """One rule file."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    rules: list[Rule] = Field(min_length=1)


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched a text, and on what."""

    rule: Rule
    matched: str


@dataclass
class RuleSet:
    """Every rule, compiled: one automaton for all keywords, regexes and domains per rule."""

    rules: list[Rule] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _automaton: Any = None
    _regexes: list[tuple[re.Pattern[str], Rule]] = field(default_factory=list)
    _domains: dict[str, list[Rule]] = field(default_factory=dict)

    @classmethod
    def compile(cls, rules: list[Rule], sources: list[str]) -> RuleSet:
        """Compile rules (their ids must be unique)."""
        seen: dict[str, int] = {}
        for rule in rules:
            seen[rule.id] = seen.get(rule.id, 0) + 1
        duplicated = sorted(i for i, n in seen.items() if n > 1)
        if duplicated:
            raise RuleError(f"rule ids must be unique: {', '.join(duplicated)}")
        compiled = cls(rules=list(rules), sources=list(sources))
        automaton = ahocorasick.Automaton()
        phrases: dict[str, list[Rule]] = {}
        for rule in rules:
            for keyword in rule.keywords:
                phrase = normalise(keyword)
                if phrase:
                    phrases.setdefault(phrase, []).append(rule)
            compiled._regexes.extend((re.compile(p), rule) for p in rule.regex)
            for domain in rule.domains:
                compiled._domains.setdefault(domain.lower().strip("."), []).append(rule)
        for phrase, owners in phrases.items():
            automaton.add_word(f" {phrase} ", (phrase, owners))
        if phrases:
            automaton.make_automaton()
            compiled._automaton = automaton
        return compiled

    def match(
        self, text: str, language: str | None, normalised: str | None = None
    ) -> list[RuleHit]:
        """Return the rules the text matches (once each), in rule order."""
        hits: dict[str, RuleHit] = {}
        normalised = normalise(text) if normalised is None else normalised
        if self._automaton is not None and normalised:
            for _, (phrase, owners) in self._automaton.iter(f" {normalised} "):
                for rule in owners:
                    hits.setdefault(rule.id, RuleHit(rule, phrase))
        for pattern, rule in self._regexes:
            found = pattern.search(normalised)
            if found:
                hits.setdefault(rule.id, RuleHit(rule, found.group(0)))
        if self._domains:
            for host in _DOMAIN.findall(text):
                host = host.lower()
                parts = host.split(".")
                for i in range(len(parts) - 1):
                    for rule in self._domains.get(".".join(parts[i:]), []):
                        hits.setdefault(rule.id, RuleHit(rule, host))
        order = {rule.id: n for n, rule in enumerate(self.rules)}
        return sorted(
            (h for h in hits.values() if h.rule.language in (None, language)),
            key=lambda h: order[h.rule.id],
        )


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """Return the 1-based line of ``location`` (keys and indexes) in a composed YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in location:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            node = node.value[step] if step < len(node.value) else None
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_file(path: Path) -> list[Rule]:
    """Read and check one rule file; raise RuleError naming the line and the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read: {exc}") from exc
    try:
        tree = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    except RecursionError as exc:
        raise RuleError(f"{path}: not valid YAML: nested too deeply") from exc
    except ValueError as exc:  # PyYAML hands an integer of thousands of digits to int()
        raise RuleError(f"{path}: not valid YAML: a number is too long") from exc
    try:
        return RuleFile.model_validate(raw).rules
    except ValidationError as exc:
        err = exc.errors()[0]
        location = tuple(err["loc"])
        line = _line_of(tree, location)
        at = f":{line}" if line is not None else ""
        where = ".".join(str(p) for p in location) or "file"
        message = str(err["msg"]).removeprefix("Value error, ")
        raise RuleError(f"{path}{at}: {where}: {message}") from exc


def load_dir(directory: Path) -> RuleSet:
    """Load every ``*.yaml`` rule file of a directory into one rule set."""
    files = sorted(directory.glob("*.yaml"))
    rules: list[Rule] = []
    for path in files:
        rules.extend(load_file(path))
    return RuleSet.compile(rules, [str(p) for p in files])
