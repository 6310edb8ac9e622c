"""The core is pure: it imports no web framework, no database and no network library."""

import ast
from pathlib import Path

import ivig.core

FORBIDDEN = (
    "django",
    "ninja",
    "psycopg",
    "sqlite3",
    "requests",
    "urllib",
    "http",
    "socket",
    "weasyprint",
    "simple_history",
)
CORE = Path(ivig.core.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_import_no_web_framework_database_or_network() -> None:
    files = sorted(CORE.glob("*.py"))
    assert len(files) >= 8
    offenders = {f.name: _imports(f) & set(FORBIDDEN) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_pint_is_imported_only_by_the_units_module() -> None:
    users = sorted(f.name for f in Path(CORE).parent.rglob("*.py") if "pint" in _imports(f))
    assert users == ["units.py"]
