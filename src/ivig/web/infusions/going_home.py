"""The going-home sheet, printed when an infusion ends: what is expected and for how long, what
means "call the care team" and what means "call emergency services" (from the triage table),
the check-in times, drinking for the next 48 hours and the team's numbers. HTML and PDF, English
and Spanish. Access through ``ivig.web.access``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ivig.core import family
from ivig.core import going_home as going_home_core
from ivig.core.triage import load_triage_data
from ivig.core.units import Kind, minutes, parse
from ivig.web import access
from ivig.web.infusions import records
from ivig.web.infusions.models import Infusion
from ivig.web.plans.family_views import sheet_pdf_response
from ivig.web.plans.views import _language


def _hours(key: str) -> timedelta:
    from ivig.core.timeline import timeline_data

    text = timeline_data()["hydration"][key]
    return timedelta(
        minutes=float(minutes(parse(text, f"timeline.toml hydration.{key}", Kind.DURATION)))
    )


@login_required
def going_home(request: HttpRequest, patient_id: int, infusion_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    infusion = get_object_or_404(
        Infusion.objects.select_related("approval__plan_version"), pk=infusion_id, patient=patient
    )
    language = _language(request)
    es = language == "es"
    with translation.override(language):
        plan = records.approved_plan(infusion.approval)
        triage = load_triage_data()
        numbers: dict[str, int] = {}
        sources: list[dict[str, Any]] = []

        def cite(keys: tuple[str, ...], kind: str) -> str:
            for key in keys:
                if (kind, key) not in {(s["kind"], s["key"]) for s in sources}:
                    numbers[f"{kind}:{key}"] = len(numbers) + 1
                    text = family.source_line(key) if kind == "family" else triage.source_line(key)
                    sources.append({"kind": kind, "key": key, "number": len(numbers), "text": text})
            return ", ".join(str(numbers[f"{kind}:{k}"]) for k in keys)

        levels = going_home_core.going_home_symptoms(plan)
        groups = {
            level: [
                {
                    "text": line.text(language),
                    "when": line.when(language),
                    "keys": " ".join(line.sources),
                    "refs": cite(line.sources, "triage"),
                }
                for line in lines
            ]
            for level, lines in levels.items()
        }
        expected_lines = [
            {
                "text": s.text(language),
                "keys": " ".join(s.sources),
                "refs": cite(s.sources, "family"),
            }
            for s in going_home_core.going_home_expected()
        ]
        ended = infusion.ended_at
        hydration_until = timezone.localtime(ended) + _hours("after") if ended else None
        from ivig.core.timeline import timeline_data

        hydration = timeline_data()["hydration"]
        fluid_limit = (
            patient.fluid_limits.filter(archived_at__isnull=True).order_by("-set_at").first()
        )
        context: dict[str, Any] = {
            "patient": patient,
            "infusion": infusion,
            "language": language,
            "screen": request.GET.get("format") != "pdf",
            "printed_at": timezone.localtime(),
            "title": family.family_data()["going_home"]["title_es" if es else "title_en"],
            "statement": plan.statement(language) if plan is not None else "",
            "product": plan.product.brand if plan is not None else "",
            "expected_lines": expected_lines,
            "groups": groups,
            "checkins": list(infusion.checkins.order_by("due_at")),
            "hydration_text": hydration["until_detail_es" if es else "until_detail_en"],
            "hydration_refs": cite(("SEED-CUREJM",), "family"),
            "hydration_until": hydration_until,
            "fluid_limit": fluid_limit,
            "team": patient.team,
            "sources": sources,
        }
        if not context["screen"]:
            html = render_to_string("infusions/going_home.html", context, request=request)
            return sheet_pdf_response(html, f"going-home-{infusion.pk}-{language}.pdf")
        return render(request, "infusions/going_home.html", context)
