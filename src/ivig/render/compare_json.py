"""A comparison as a plain dict (JSON for the CLI, context for the web page).

The core's ``compare`` returns a ``Comparison``; this renderer is the one place that turns it into
the ``ivig-compare/1`` document, so the engine knows nothing of its outputs.
"""

from __future__ import annotations

from ivig.core.compare import Comparison
from ivig.core.titration import ScheduleStep
from ivig.render.plan_json import finding_dict, num


def comparison_to_dict(c: Comparison, language: str = "en") -> dict[str, object]:
    def step(s: ScheduleStep | None) -> dict[str, object] | None:
        if s is None:
            return None
        return {
            "start_min": num(s.start_min, 2),
            "end_min": num(s.end_min, 2),
            "planned_minutes": s.planned_minutes,
            "rate_ml_kg_h": num(s.rate_ml_kg_h, 3),
            "rate_ml_h": num(s.pump_rate_ml_h, 1),
        }

    return {
        "schema": "ivig-compare/1",
        "findings": [finding_dict(f, language) for f in c.findings],
        "steps": [
            {
                "step": p.number,
                "first": step(p.first),
                "second": step(p.second),
                "diff_ml_kg_h": num(p.diff_ml_kg_h, 3),
                "diff_ml_h": num(p.diff_ml_h, 1),
                "diff_minutes": num(p.diff_minutes, 2),
            }
            for p in c.pairs
        ],
        "first": {
            "dosing_weight_kg": num(c.first.dosing.weight_kg, 3),
            "findings": [finding_dict(f, language) for f in c.first.findings],
        },
        "second": {
            "dosing_weight_kg": num(c.second.dosing.weight_kg, 3),
            "findings": [finding_dict(f, language) for f in c.second.findings],
        },
    }
