"""The shape of the code: packages import one way (no cycle), files stay readable, and only the
case state machine moves a case. The import contracts themselves are in pyproject.toml
(``lint-imports``, run by ``make test``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "tanggap"
MAX_LINES = 400
STATE_OWNER = SRC / "cases" / "states.py"


def _modules(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield (dotted name, file) of every module of the package (Alembic's scripts are loaded
    by path, not imported, and are left out)."""
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:
            continue
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _imported(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Yield every ``tanggap`` module ``path`` imports, with its line: at the top, inside
    functions and under TYPE_CHECKING alike (a cycle hidden in a function is still a cycle)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            yield from ((f"{base}.{alias.name}", node.lineno) for alias in node.names)


def package_graph(root: Path) -> dict[str, dict[str, str]]:
    """Return, for each package directly under ``root`` (a top-level module counts as one),
    the packages it imports, each with one importing line as evidence."""
    known = {name.split(".")[1] for name, _ in _modules(root) if "." in name}
    graph: dict[str, dict[str, str]] = {}
    for module, path in _modules(root):
        if "." not in module:
            continue
        source = module.split(".")[1]
        for target, line in _imported(module, path):
            parts = target.split(".")
            if parts[0] != root.name or len(parts) < 2 or parts[1] not in known:
                continue
            if parts[1] != source:
                evidence = f"{path.relative_to(root.parent)}:{line} imports {target}"
                graph.setdefault(source, {}).setdefault(parts[1], evidence)
    return graph


def cycles(graph: Mapping[str, Mapping[str, object]]) -> list[list[str]]:
    """Return the strongly connected components of more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})
    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_packages_import_each_other_without_a_cycle() -> None:
    graph = package_graph(SRC)
    assert len(graph) > 20  # the walk really saw the house
    found = cycles(graph)
    evidence = [
        graph[a][b] for component in found for a in component for b in component if b in graph[a]
    ]
    assert found == [], "\n".join(evidence)


def test_a_cycle_is_found_when_there_is_one() -> None:
    graph = {"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}, "d": {"a": ""}, "e": {"e": ""}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b": ""}, "b": {}}) == []


def test_a_function_local_import_counts(tmp_path: Path) -> None:
    root = tmp_path / "tanggap"
    for package in ("low", "high"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "high" / "service.py").write_text("from tanggap.low import thing\n")
    (root / "low" / "thing.py").write_text("def f():\n    from ..high import service\n")
    assert cycles(package_graph(root)) == [["high", "low"]]


def test_no_source_file_is_longer_than_one_sitting() -> None:
    long = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def _is_case_state(value: ast.AST) -> bool:
    """Tell whether an expression names a case state (``CaseState.X``, ``states.X``)."""
    return any(
        (isinstance(part, ast.Name) and part.id == "CaseState")
        or (
            isinstance(part, ast.Attribute)
            and isinstance(part.value, ast.Name)
            and part.value.id == "states"
        )
        for part in ast.walk(value)
    )


def _case_state_writes(path: Path) -> list[int]:
    """Lines of ``path`` that set a case's state: ``x.state = CaseState.…``, or ``state=…`` in
    ``Case(...)`` or an UPDATE's ``.values(...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and _is_case_state(node.value):
            if any(isinstance(t, ast.Attribute) and t.attr == "state" for t in node.targets):
                found.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            for keyword in node.keywords:
                writes = name in ("Case", "values") and keyword.arg == "state"
                if writes and _is_case_state(keyword.value):
                    found.append(keyword.value.lineno)
    return found


def test_only_the_state_module_moves_a_case() -> None:
    writes = {
        f"{path.relative_to(SRC)}:{line}"
        for path in SRC.rglob("*.py")
        if path != STATE_OWNER
        for line in _case_state_writes(path)
    }
    # A new case is built in its initial state (cases.service.new_case); every move after that
    # goes through cases.states (move, enter_review), and the model checks each assignment.
    service = SRC / "cases" / "service.py"
    assert writes == {f"cases/service.py:{line}" for line in _case_state_writes(service)}
    assert len(writes) == 1


def test_the_check_sees_an_assignment(tmp_path: Path) -> None:
    rogue = tmp_path / "rogue.py"
    rogue.write_text("case.state = CaseState.DECIDED\nupdate(Case).values(state=states.OPEN)\n")
    assert _case_state_writes(rogue) == [1, 2]
