"""Read a scenario file, keeping the line of every value, and refuse it before anything runs:
every error names the file's line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from tanggap.cases import visibility
from tanggap.config import Settings
from tanggap.detectors.language import LANGUAGES
from tanggap.errors import InvalidInput
from tanggap.policy.schemas import Policy
from tanggap.policy.service import PolicyError, find_category, load_policy
from tanggap.simulation.scenario import Scenario
from tanggap.simulation.team import Reviewer, team_of, unserved_queue

# The languages detection can give a post, and ``und`` for a post it cannot tell.
KNOWN_LANGUAGES = frozenset(
    {lang.iso_code_639_1.name.lower() for lang in LANGUAGES} | {visibility.UNDETERMINED_LANGUAGE}
)


class ScenarioError(InvalidInput):
    """A scenario file that cannot run; the message names the file and line."""


class Lines:
    """Where each value of the file starts: a path of keys and indexes to its line number."""

    def __init__(self) -> None:
        self.by_path: dict[tuple[str | int, ...], int] = {}

    def line(self, path: Sequence[str | int]) -> int:
        """Return the line of the deepest known value along ``path``."""
        for depth in range(len(path), -1, -1):
            found = self.by_path.get(tuple(path[:depth]))
            if found is not None:
                return found
        return 1


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: Lines) -> None:
    lines.by_path.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark.line)
            lines.by_path.setdefault((*path, name), key.start_mark.line + 1)
            _walk(value, (*path, name), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario that passed every check, with its policy and its team."""

    path: Path
    scenario: Scenario
    policy: Policy
    team: tuple[Reviewer, ...]
    lines: Lines


def load_scenario(path: Path) -> LoadedScenario:
    """Read, validate and check the scenario at ``path``; raise ScenarioError naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc}", field="scenario") from exc
    lines = Lines()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ScenarioError(f"{where}: not valid YAML: {exc}", field="scenario") from exc
    if root is not None:
        _walk(root, (), lines)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        dotted = ".".join(str(p) for p in loc) or "file"
        message = f"{path}:{lines.line(loc)}: {dotted}: {err['msg']}"
        raise ScenarioError(message, field=dotted) from exc
    policy = _policy_of(scenario, path, lines)
    return _checked(path, scenario, policy, lines)


def packaged_scenario(name: str) -> Path:
    """Return the path of a scenario shipped with Tanggap (``indonesia``, ``platform``)."""
    return Path(str(resources.files("tanggap.simulation") / "scenarios" / f"{name}.yaml"))


def _policy_of(scenario: Scenario, path: Path, lines: Lines) -> Policy:
    if scenario.policy == "default":
        policy_path = Settings().policy_file
    else:
        policy_path = (path.parent / scenario.policy).resolve()
    try:
        return load_policy(Path(policy_path))
    except PolicyError as exc:
        raise ScenarioError(f"{path}:{lines.line(['policy'])}: {exc}", field="policy") from exc


def _fail(path: Path, lines: Lines, where: Sequence[str | int], message: str) -> ScenarioError:
    dotted = ".".join(str(p) for p in where)
    return ScenarioError(f"{path}:{lines.line(where)}: {dotted}: {message}", field=dotted)


def _checked(path: Path, scenario: Scenario, policy: Policy, lines: Lines) -> LoadedScenario:
    categories = ", ".join(c.id for c in policy.categories)
    for name in scenario.handling:
        if name != "default" and find_category(policy, name) is None:
            raise _fail(
                path, lines, ["handling", name], f"unknown category {name!r}; known: {categories}"
            )
    for index, group in enumerate(scenario.roster):
        for at, language in enumerate(group.languages):
            if language not in KNOWN_LANGUAGES:
                raise _fail(
                    path, lines, ["roster", index, "languages", at], _unknown_language(language)
                )
        for at, cleared in enumerate(group.clearances):
            if find_category(policy, cleared) is None:
                cleared_at: list[str | int] = ["roster", index, "clearances", at]
                raise _fail(path, lines, cleared_at, f"unknown category {cleared!r}")
    team = team_of(scenario, policy)
    for index, stream in enumerate(scenario.arrivals):
        where: list[str | int] = ["arrivals", index]
        if find_category(policy, stream.category) is None:
            message = f"unknown category {stream.category!r}; known: {categories}"
            raise _fail(path, lines, [*where, "category"], message)
        if stream.language not in KNOWN_LANGUAGES:
            raise _fail(path, lines, [*where, "language"], _unknown_language(stream.language))
        if stream.cycle != "flat" and stream.cycle not in scenario.cycles:
            raise _fail(path, lines, [*where, "cycle"], f"unknown cycle {stream.cycle!r}")
        if stream.category not in scenario.handling and "default" not in scenario.handling:
            message = f"no handling time for {stream.category!r} (and no 'default')"
            raise _fail(path, lines, [*where, "category"], message)
        queue = unserved_queue(stream, team)
        if queue is not None:
            raise _fail(path, lines, where, _unserved(stream.language, stream.category, queue))
    return LoadedScenario(path=path, scenario=scenario, policy=policy, team=team, lines=lines)


def _unknown_language(language: str) -> str:
    return f"unknown language {language!r}; known: {', '.join(sorted(KNOWN_LANGUAGES))}"


def _unserved(language: str, category: str, queue: str) -> str:
    return (
        f"no reviewer on the roster may take queue {queue!r} (language {language!r}, "
        f"category {category!r}): none reads the language (or, for the fallback queue, none is "
        "a lead), or none holds the category's clearance"
    )
