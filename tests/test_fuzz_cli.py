"""Fuzzing `ivig plan`, `ivig compare` and `ivig triage` in-process (issue 10): a valid document
with one part replaced by something hostile (wrong types, huge numbers, odd Unicode, nesting up
to thousands deep), or raw text. Every run ends with exit 0, 1 or 2 and a message, never a
traceback. ``IVIG_FUZZ_EXAMPLES=500 bash scripts/fuzz.sh`` runs it longer."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ivig.cli import app
from tests.core.builders import document
from tests.fuzz import FUZZ_SETTINGS, deep, hostile_text, hostile_value

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
TRIAGE_BASE = tomllib.loads(
    (ROOT / "examples" / "triage" / "kawasaki-fever-40h.toml").read_text(encoding="utf-8")
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> str:
    """A document as text: the base with one part replaced, maybe deeply nested, or raw text."""
    kind = draw(st.sampled_from(["replace", "replace", "nest", "add", "text"]))
    if kind == "text":
        return draw(st.one_of(hostile_text, st.text(max_size=200)))
    path = draw(st.sampled_from(_paths(base)))
    if kind == "replace":
        doc = _replace(base, path, draw(hostile_value))
    elif kind == "nest":
        depth = draw(st.sampled_from([17, 100, 990, 5000, 100_000]))
        doc = _replace(base, path, deep(draw(hostile_value), depth))
    else:
        doc = _replace(base, (*path[:1], draw(st.text(max_size=10)) or "x"), draw(hostile_value))
    try:
        return json.dumps(doc, ensure_ascii=draw(st.booleans()))
    except (RecursionError, ValueError):  # too deep or too long for json itself: build by hand
        return '{"patient": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _ok(result: Any, what: str) -> None:
    assert result.exit_code in (0, 1, 2), (what, result.exit_code, result.output[-2000:])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        what, repr(result.exception))
    assert "Traceback" not in result.output, what


@FUZZ_SETTINGS
@given(text=mutated(document()), suffix=st.sampled_from([".json", ".toml", ""]))
def test_plan_and_compare_never_crash(tmp_path_factory: Any, text: str, suffix: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    bad = folder / f"plan{suffix}"
    bad.write_text(text, encoding="utf-8")
    good = folder / "good.json"
    good.write_text(json.dumps(document()), encoding="utf-8")
    _ok(runner.invoke(app, ["plan", str(bad), "--today", "2026-11-21"]), text[:200])
    _ok(runner.invoke(app, ["plan", str(bad), "--format", "json"]), text[:200])
    _ok(runner.invoke(app, ["compare", str(good), str(bad)]), text[:200])


@FUZZ_SETTINGS
@given(text=mutated(TRIAGE_BASE), suffix=st.sampled_from([".json", ".toml"]))
def test_triage_never_crashes(tmp_path_factory: Any, text: str, suffix: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"report{suffix}"
    path.write_text(text, encoding="utf-8")
    _ok(runner.invoke(app, ["triage", str(path), "--format", "json"]), text[:200])
