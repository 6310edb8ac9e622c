"""Repository-level contracts: self-contained code, CI entry point, README set-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()

# The reference folder beside the repository is for people, not for the program:
# a fresh clone without it must still run and test.
SHARED_MARKERS = ("../shared", "/work/shared", "shared/reference", "shared/seeds")
SKIP_DIRS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
SHELL_LANGS = {"", "sh", "bash", "shell", "console"}


def _source_files() -> list[Path]:
    files = []
    for top in ("src", "tests"):
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or path.resolve() == THIS:
                continue
            parts = path.relative_to(ROOT).parts
            if SKIP_DIRS.intersection(parts) or any(p.endswith(".egg-info") for p in parts):
                continue
            files.append(path)
    return files


def test_nothing_reads_the_shared_reference_folder() -> None:
    offenders = []
    for path in _source_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files (fonts, compiled translations, images)
        for marker in SHARED_MARKERS:
            if marker in text:
                offenders.append(f"{path.relative_to(ROOT)}: {marker!r}")
    assert not offenders, "src/ and tests/ must not use the shared/ folder:\n" + "\n".join(
        offenders
    )


def test_ci_runs_the_test_script() -> None:
    run = ROOT / ".ci" / "run"
    assert run.is_file(), ".ci/run is missing"
    code = [
        line
        for line in run.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert any("scripts/test.sh" in line for line in code), ".ci/run must call scripts/test.sh"


def _fenced_shell_commands(markdown: str) -> list[str]:
    commands: list[str] = []
    for match in re.finditer(r"^```([^\n`]*)\n(.*?)^```", markdown, re.M | re.S):
        if match.group(1).strip().lower() not in SHELL_LANGS:
            continue
        for line in match.group(2).splitlines():
            line = line.strip().removeprefix("$ ").strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_readme_setup_starts_with_serve_then_test() -> None:
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("README not written yet")
    commands = _fenced_shell_commands(readme.read_text(encoding="utf-8"))
    assert commands[:2] == ["bash scripts/serve.sh", "bash scripts/test.sh"], commands[:2]


def test_fenced_command_parser() -> None:
    text = (
        "# T\n\n```sh\n$ bash scripts/serve.sh\n```\n\n"
        "```python\nx = 1\n```\n\n```\n# c\nbash b\n```\n"
    )
    assert _fenced_shell_commands(text) == ["bash scripts/serve.sh", "bash b"]


def _requirement_name(spec: str) -> str:
    name = re.split(r"[\s\[<>=!~;]", spec.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_dependency_is_pinned_in_the_constraints_file() -> None:
    """Reproducible installs (issue 10): both README commands install with
    ``-c constraints.txt``; a dependency added to pyproject.toml without running
    scripts/lock.sh fails here."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[_requirement_name(name)] = version
    missing = [spec for spec in wanted if _requirement_name(spec) not in pins]
    assert missing == [], "run bash scripts/lock.sh: not pinned: " + ", ".join(missing)
    for script in ("scripts/serve.sh", "scripts/test.sh"):
        assert "pip install -q -c constraints.txt" in (ROOT / script).read_text(encoding="utf-8")
