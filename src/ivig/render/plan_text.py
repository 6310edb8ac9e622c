"""The plan as a readable terminal table and as Markdown, both made from the JSON document so
the three formats always agree."""

from __future__ import annotations

from typing import Any

SEVERITY_LABEL = {"error": "ERROR", "warning": "WARNING", "info": "info"}


def _n(value: float | None, unit: str = "", places: int | None = None) -> str:
    if value is None:
        return "unknown"
    text = f"{value:.{places}f}" if places is not None else f"{value:g}"
    return f"{text} {unit}".strip()


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append(
            "  ".join(
                c.rjust(w) if c[:1].isdigit() else c.ljust(w)
                for c, w in zip(r, widths, strict=True)
            )
        )
    return out


STEP_HEADERS = ["step", "time", "min", "mL/kg/h", "mg/kg/min", "pump mL/h", "mL", "total mL"]


def _step_rows(day: dict[str, Any]) -> list[list[str]]:
    rows = []
    for s in day["steps"]:
        when = (
            f"{s['start_time']}–{s['end_time']}"
            if s["start_time"]
            else f"{s['start_min']:g}–{s['end_min']:g}"
        )
        rows.append(
            [
                str(s["step"]) + ("*" if s["cut_short"] else ""),
                when,
                f"{s['end_min'] - s['start_min']:.1f}",
                _n(s["rate_ml_kg_h"], places=2),
                _n(s["rate_mg_kg_min"], places=2),
                _n(s["rate_ml_h"], places=1),
                _n(s["volume_ml"], places=1),
                _n(s["cumulative_ml"], places=1),
            ]
        )
    return rows


def _duration(minutes: float) -> str:
    total = round(minutes)
    return f"{total // 60} h {total % 60:02d} min"


def to_text(doc: dict[str, Any]) -> str:
    p, prod, course = doc["patient"], doc["product"], doc["course"]
    out = ["IVIG infusion plan", "=" * 18, doc["statement"], ""]
    out.append(_findings_text(doc["findings"]))
    out.append("")
    out.append(
        f"Patient: weight {p['weight_given']} = {_n(p['weight_kg'], 'kg', 2)}; dosing weight "
        f"{_n(p['dosing_weight_kg'], 'kg', 2)} ({p['dosing_weight_method']})"
    )
    out.append(f"  {p['dosing_weight_explanation']}")
    out.append(
        f"Product: {prod['brand']} ({prod['manufacturer']}), "
        f"{_n(prod['concentration_percent'], '%')} = {_n(prod['concentration_mg_ml'], 'mg/mL')}"
    )
    out.append(
        f"Course: {course['dose_given']} over {course['days']} day(s); rounding: "
        f"{course['vial_rounding']}"
    )
    out.append(f"  {dose_line(course)}")
    for pm in doc["premedication"]:
        when = f"{pm['minutes_before']} min before" if pm["minutes_before"] is not None else ""
        at = f" (at {pm['time']})" if pm["time"] else ""
        out.append(f"Premedication: {pm['name']} {pm['dose'] or ''} {when}{at}".rstrip())
    if doc["saline"]:
        s = doc["saline"]
        out.append(
            f"Saline: {s['given']} = {_n(s['volume_ml'], 'mL', 0)} {s['timing'] or ''}".rstrip()
        )
    for day in doc["days"]:
        out.append("")
        head = f"Day {day['day']}"
        if day["date"]:
            head += f" — {day['date']}, start {day['start'][11:]}"
        vials = (
            ", ".join(f"{v['count']} × {v['size_g']:g} g" for v in day["vials"])
            if day["vials"] is not None
            else "vial sizes unknown"
        )
        out.append(
            f"{head}: {_n(day['dose_g'], 'g', 2)} = {_n(day['volume_ml'], 'mL', 1)}; "
            f"vials {vials}"
            + (f" (waste {_n(day['wasted_g'], 'g', 2)})" if day["wasted_g"] is not None else "")
        )
        out.append(f"  {dose_line(day)}")
        out.extend(_table(STEP_HEADERS, _step_rows(day)))
        out.append(
            f"Total time {_duration(day['duration_min'])}"
            + (f", ends about {day['end'][11:]}" if day["end"] else "")
            + (
                "   (* step cut short when the volume is in)"
                if any(s["cut_short"] for s in day["steps"])
                else ""
            )
        )
    out.append("")
    out.append(
        "Pump rates are rounded down to 0.1 mL/h, so the pump never runs faster than prescribed; "
        "times and volumes are computed from the pump setting."
    )
    out.append(f"Catalogue version {doc['catalogue_version']}.")
    return "\n".join(out) + "\n"


def _findings_text(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "Findings: none."
    lines = [f"Findings ({len(findings)}):"]
    for f in findings:
        lines.append(f"- {SEVERITY_LABEL[f['severity']]} [{f['code']}] {f['message']}")
        lines.append(f"    Source: {f['source']}")
    return "\n".join(lines)


def to_markdown(doc: dict[str, Any]) -> str:
    p, prod, course = doc["patient"], doc["product"], doc["course"]
    out = ["# IVIG infusion plan", "", f"> {doc['statement']}", "", "## Findings", ""]
    if not doc["findings"]:
        out.append("None.")
    for f in doc["findings"]:
        out.append(f"- **{SEVERITY_LABEL[f['severity']]}** `{f['code']}` — {f['message']}  ")
        out.append(f"  *Source:* {f['source']}")
    out += [
        "",
        "## Patient, product and course",
        "",
        f"- Weight: {p['weight_given']} = {_n(p['weight_kg'], 'kg', 2)}",
        f"- Dosing weight: {_n(p['dosing_weight_kg'], 'kg', 2)} ({p['dosing_weight_method']}). "
        f"{p['dosing_weight_explanation']}",
        f"- Product: {prod['brand']} ({prod['manufacturer']}), "
        f"{_n(prod['concentration_mg_ml'], 'mg/mL')}",
        f"- Course: {course['dose_given']} over {course['days']} day(s); {dose_line(course)}",
    ]
    for day in doc["days"]:
        out += ["", f"## Day {day['day']}" + (f" ({day['date']})" if day["date"] else ""), ""]
        out.append(
            f"{_n(day['dose_g'], 'g', 2)} = {_n(day['volume_ml'], 'mL', 1)}, total time "
            f"{_duration(day['duration_min'])}; {dose_line(day)}; vials "
            + (
                ", ".join(f"{v['count']} × {v['size_g']:g} g" for v in day["vials"])
                if day["vials"] is not None
                else "vial sizes unknown"
            )
            + (f" (waste {_n(day['wasted_g'], 'g', 2)})" if day["wasted_g"] is not None else "")
        )
        out.append("")
        out.append("| " + " | ".join(STEP_HEADERS) + " |")
        out.append("|" + "---|" * len(STEP_HEADERS))
        for row in _step_rows(day):
            out.append("| " + " | ".join(row) + " |")
    out.append("")
    return "\n".join(out)


def dose_line(part: dict[str, Any]) -> str:
    """Prescribed and given dose, both in g and g/kg (a course or a day of the plan dict)."""
    return (
        f"prescribed {_n(part['prescribed_dose_g'], 'g', 2)} "
        f"({_g_per_kg(part['prescribed_dose_g_per_kg'])}); given "
        f"{_n(part['dose_g'], 'g', 2)} ({_g_per_kg(part['dose_g_per_kg'])})"
    )


def _g_per_kg(value: float | None) -> str:
    if value is None:
        return "unknown"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{text} g/kg"

