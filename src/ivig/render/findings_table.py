"""The table of finding codes for the README, made from data/findings.toml.

`python -m ivig.render.findings_table` prints it; a test checks the README's copy is current.
"""

from __future__ import annotations

from ivig.core.findings import specs


def markdown_table() -> str:
    rows = ["| code | severity | meaning |", "|---|---|---|"]
    order = {"error": 0, "warning": 1, "info": 2}
    for spec in sorted(
        specs().values(), key=lambda s: (s.code.startswith("compare_"), order[s.severity], s.code)
    ):
        meaning = spec.meaning.replace("|", "\\|")
        rows.append(f"| `{spec.code}` | {spec.severity} | {spec.title_en}: {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
