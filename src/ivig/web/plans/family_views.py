"""Family sheets: "About IVIG" for one patient's plan, and the shared sheet rendering helpers.

Every statement comes from ``ivig.core.family`` with its source keys; the page numbers the
sources and lists them at the end (weak sources marked). Access goes through ``ivig.web.access``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ivig.core import family
from ivig.core.plan import Plan
from ivig.web import access, pdf
from ivig.web.accounts.models import CareTeam
from ivig.web.plans.forms import problem_text
from ivig.web.plans.views import _language, compute

# The family sheets' stylesheets, linked in this order by their templates too.
SHEET_STYLES = ("plans/print-base.css", "plans/sheet.css")


def sheet_pdf_response(html: str, filename: str) -> HttpResponse:
    """A family sheet (About IVIG, going home, blank chart) as a PDF."""
    return pdf.pdf_response(html, filename, *SHEET_STYLES)


def sheet_context(sections: Any, language: str) -> dict[str, Any]:
    """Sections as the templates want them: each line's text, its source numbers and keys."""
    numbers: dict[str, int] = {}
    out = []
    for section in sections:
        lines = []
        for line in section.lines:
            for key in line.sources:
                numbers.setdefault(key, len(numbers) + 1)
            lines.append(
                {
                    "text": line.text(language),
                    "keys": " ".join(line.sources),
                    "refs": ", ".join(str(numbers[k]) for k in line.sources),
                    "weak": line.weak,
                    "conflict": line.conflict_text(language),
                }
            )
        out.append({"key": section.key, "title": section.title(language), "lines": lines})
    sources = [
        {"number": n, "key": k, "text": family.source_line(k), "quality": family.source_quality(k)}
        for k, n in numbers.items()
    ]
    return {"sections": out, "sources": sources}


def team_price(team: CareTeam, product_id: str) -> family.TeamPrice | None:
    price = team.prices.active().filter(product_id=product_id).select_related("set_by").first()
    if price is None:
        return None
    return family.TeamPrice(price.price_per_g, price.currency, price.set_on, str(price.set_by))


def order_setting(plan: Plan) -> str | None:
    return plan.document.order.setting


@login_required
def about_ivig(request: HttpRequest, patient_id: int, version_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    version = get_object_or_404(patient.plan_versions.all(), pk=version_id)
    language = _language(request)
    with translation.override(language):
        plan, problems = compute(version.order_document)
        context: dict[str, Any] = {
            "patient": patient,
            "version": version,
            "language": language,
            "printed_at": timezone.localtime(),
            "problems": [f"{p.field}: {problem_text(p)}" for p in problems],
            "screen": request.GET.get("format") != "pdf",
        }
        if plan is not None:
            sheet = family.about_sheet(
                plan,
                setting=order_setting(plan),
                price=team_price(patient.team, plan.product.id),
            )
            context.update(sheet_context(sheet.sections, language))
            context["statement"] = plan.statement(language)
            indication = plan.indication
            if indication is not None:
                context["indication_name"] = (
                    indication.name_es if language == "es" else indication.name_en
                )
                context["indication_notes"] = family.indication_notes(
                    indication.id, indication.notes, language
                )
            context["product"] = plan.product.brand
        if not context["screen"]:
            html = render_to_string("plans/print/about.html", context, request=request)
            return sheet_pdf_response(html, f"about-ivig-{version.pk}-{language}.pdf")
        return render(request, "plans/print/about.html", context)
