"""A comparison of two plans as a readable terminal table (made from its JSON document)."""

from __future__ import annotations

from typing import Any

from ivig.render.plan_text import SEVERITY_LABEL


def _cell(step: dict[str, Any] | None, key: str, places: int) -> str:
    if step is None or step.get(key) is None:
        return "—"
    return f"{step[key]:.{places}f}"


def to_text(doc: dict[str, Any], first_name: str, second_name: str) -> str:
    out = [
        f"Comparison: {second_name} (compared plan) against {first_name} "
        "(prescription, the reference)",
        "",
    ]
    out.append(f"Differences ({len(doc['findings'])}):")
    for f in doc["findings"]:
        out.append(f"- {SEVERITY_LABEL[f['severity']]} [{f['code']}] {f['message']}")
    out.append("")
    headers = [
        "step",
        "Rx min",
        "plan min",
        "Rx mL/kg/h",
        "plan mL/kg/h",
        "Δ mL/kg/h",
        "Rx mL/h",
        "plan mL/h",
        "Δ mL/h",
    ]
    rows = []
    for s in doc["steps"]:
        a, b = s["first"], s["second"]

        def minutes(x: dict[str, Any] | None) -> str:
            return "—" if x is None else f"{x['end_min'] - x['start_min']:.1f}"

        rows.append(
            [
                str(s["step"]),
                minutes(a),
                minutes(b),
                _cell(a, "rate_ml_kg_h", 2),
                _cell(b, "rate_ml_kg_h", 2),
                "—" if s["diff_ml_kg_h"] is None else f"{s['diff_ml_kg_h']:+.2f}",
                _cell(a, "rate_ml_h", 1),
                _cell(b, "rate_ml_h", 1),
                "—" if s["diff_ml_h"] is None else f"{s['diff_ml_h']:+.1f}",
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    out.append("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for r in rows:
        out.append("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    out.append("")
    out.append("Rx = the prescription (reference); plan = the plan compared; Δ = plan − Rx.")
    for label, key in (("prescription", "first"), ("compared plan", "second")):
        errors = [f for f in doc[key]["findings"] if f["severity"] == "error"]
        if errors:
            out.append("")
            out.append(f"Errors in the {label} itself:")
            out.extend(f"- [{f['code']}] {f['message']}" for f in errors)
    return "\n".join(out) + "\n"
