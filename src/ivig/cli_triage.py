"""`ivig triage FILE`: read a symptom report (TOML or JSON), triage it, print the result.

Exit status: 0 when the report was evaluated (at any level: the level is in the output),
2 when the input is bad (one line per problem on stderr, never a traceback).
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ivig.core.order import shape_problems
from ivig.core.triage import (
    LANGUAGES,
    InputProblem,
    TriageInputError,
    TriageResult,
    evaluate,
    load_triage_data,
    report_from_mapping,
    result_to_dict,
)

FORMATS = ("text", "json")
EXIT_EVALUATED = 0
EXIT_BAD_INPUT = 2


def triage_command(
    file: Path,
    format: str,
    language: str,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Triage the report in `file`; print text or JSON. Returns the exit status (0 or 2)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    problems = []
    if format not in FORMATS:
        problems.append(f"--format: not accepted. Given: {format!r}. Accepted: text, json.")
    if language not in LANGUAGES:
        problems.append(f"--language: not accepted. Given: {language!r}. Accepted: en, es.")
    if problems:
        return _fail(err, problems)
    try:
        document = read_report_file(file)
        result = evaluate(report_from_mapping(document))
    except TriageInputError as exc:
        return _fail(err, [f"{file}: {p.message}" for p in exc.problems])
    doc = result_to_dict(result, language)
    if format == "json":
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(to_text(result, doc, language))
    return EXIT_EVALUATED


def _fail(err: TextIO, lines: list[str]) -> int:
    for line in lines:
        err.write(" ".join(line.split("\n")) + "\n")
    return EXIT_BAD_INPUT


def read_report_file(path: Path) -> Mapping[str, Any]:
    """Read a report file: JSON by extension or content, else TOML. Raises TriageInputError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TriageInputError(
            [InputProblem("file", str(path), "a readable UTF-8 text file", reason)]
        ) from exc
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text, parse_float=Decimal)
        except (json.JSONDecodeError, RecursionError, ValueError) as exc:
            problem = f"not valid JSON: {getattr(exc, 'msg', 'too deeply nested or too long')}"
            raise TriageInputError(
                [InputProblem("file", str(path), "valid JSON", problem)]
            ) from exc
    else:
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
            raise TriageInputError(
                [InputProblem("file", str(path), "valid TOML", f"not valid TOML: {exc}")]
            ) from exc
    if not isinstance(data, dict):
        raise TriageInputError(
            [InputProblem("file", type(data).__name__, "a table (object)", "not a table")]
        )
    shape = shape_problems(data, str(path))
    if shape:
        raise TriageInputError(shape)
    return data


def _reading_lines(readings: list[dict[str, Any]], words: Any) -> list[str]:
    lines = []
    for reading in readings:
        lines.append(f'  - "{reading["phrase"]}":')
        for item in reading["read_as"]:
            close = (
                f' ({words("free_text_close_spelling")} "{item["matched"]}")'
                if item["close_spelling"]
                else ""
            )
            lines.append(f"      {words('free_text_read_as')}: {item['words']}{close}")
        for item in reading["not_present"]:
            lines.append(f"      {words('free_text_not_present')}: {item['words']}")
        if reading["negation_unclear"]:
            lines.append(f"      {words('free_text_negation_unclear')}")
        if reading["unread"]:
            lines.append(f"      {words('free_text_unread')}")
        elif reading["reassurance"]:
            lines.append(f"      {words('free_text_reassurance')}")
    return lines


def to_text(result: TriageResult, doc: Mapping[str, Any], language: str) -> str:
    """Plain words for people: the level first in capitals, then why, what to do, questions."""
    data = load_triage_data()

    def words(key: str) -> str:
        return data.words(key, language)

    lines = [str(doc["heading"]), ""]
    if doc["free_text"]:
        lines.append(words("free_text_heading") + ":")
        lines += _reading_lines(doc["free_text"], words)
        lines.append("")
    lines.append(words("why") + ":")
    for reason in doc["reasons"]:
        lines.append(f"  - {reason['message']} [{reason['code']}; {', '.join(reason['sources'])}]")
    if not doc["reasons"]:
        lines.append(f"  - {words('nothing_reported')}")
    lines += ["", words("what_to_do") + ":"]
    lines += [f"  - {line}" for line in doc["advice"]]
    if doc["questions_to_ask"]:
        lines += ["", words("questions") + ":"]
        lines += [f"  - {line}" for line in doc["questions_to_ask"]]
    notes = [line for line in doc["notes"] if line != words("nothing_reported")]
    if notes:
        lines += ["", words("notes") + ":"]
        lines += [f"  - {line}" for line in notes]
    if result.tags:
        lines += ["", words("tags") + ": " + ", ".join(sorted(result.tags))]
    lines += ["", words("sources") + ":"]
    lines += [f"  {line}" for line in doc["sources"].values()]
    return "\n".join(lines).rstrip() + "\n"
