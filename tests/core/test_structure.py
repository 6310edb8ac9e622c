"""The engine's shape: the core never imports its renderers, the web or Django, and its
modules depend one way (no import cycles, counting imports inside functions and type-only ones).
"""

from __future__ import annotations

import ast
from pathlib import Path

import ivig.core

CORE = Path(ivig.core.__file__).parent
FORBIDDEN_PREFIXES = ("ivig.render", "ivig.web", "ivig.cli", "django")


def _module_name(path: Path) -> str:
    rel = path.relative_to(CORE.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path, module: str | None = None) -> set[str]:
    """Every module named by an import anywhere in the file (top level, in functions, or under
    TYPE_CHECKING), as dotted names; ``from ivig.core import units`` gives ivig.core.units."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = (module or _module_name(path)).split(".")
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = here if path.name == "__init__.py" else here[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _forbidden(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in FORBIDDEN_PREFIXES)


def _core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def _node(name: str) -> str | None:
    """The graph node for an engine module: a sub-package counts as one module."""
    parts = name.split(".")
    if parts[:2] != ["ivig", "core"] or len(parts) < 3:
        return None
    candidate = CORE / parts[2]
    if candidate.with_suffix(".py").exists() or candidate.is_dir():
        return ".".join(parts[:3])
    return None


def test_core_imports_no_renderer_web_cli_or_django() -> None:
    files = _core_files()
    assert len(files) >= 10
    offenders = {
        _module_name(f): sorted(n for n in _imported(f) if _forbidden(n))
        for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_scanner_sees_imports_hidden_in_functions_and_relative_ones(tmp_path: Path) -> None:
    """The scanner must not miss the lazy import that used to tie compare to the renderer."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n    from ivig.render.plan_json import num\n"
        "from . import units\nfrom .plan_model import Plan\n",
        encoding="utf-8",
    )
    names = _imported(probe, "ivig.core.probe")
    assert {"ivig.render.plan_json", "ivig.core.units", "ivig.core.plan_model"} <= names


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for f in _core_files():
        src = _node(_module_name(f))
        if src is None:
            continue
        targets = {_node(n) for n in _imported(f)}
        graph.setdefault(src, set()).update(t for t in targets if t is not None and t != src)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_engine_modules_depend_one_way() -> None:
    graph = _graph()
    assert "ivig.core.checks" in graph["ivig.core.plan"]
    assert "ivig.core.plan" not in graph["ivig.core.checks"]
    assert "ivig.core.dosing" not in graph["ivig.core.order"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
