"""The "today" page, the printable doctor-vs-nurse comparison and the lot search.

Thin views: every patient comes through ``ivig.web.access``; the numbers come from the core and
the approved snapshots; these views only choose what to show."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import get_language

from ivig.web import access
from ivig.web.pdf import pdf_response
from ivig.web.plans import views as plan_views
from ivig.web.ui import lots, today


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What to do today, per role, each line linking straight to the action."""
    now = timezone.now()
    can_add = access.teams_for(request.user, access.Action.ADD_PATIENT).exists()
    return render(
        request,
        "ui/today.html",
        {"today": today.build(request.user, now), "now": now, "can_add": can_add},
    )


LANGUAGES = ("en", "es")


def _print_language(request: HttpRequest) -> str:
    wanted = (request.GET.get("lang") or get_language() or "en")[:2].lower()
    return wanted if wanted in LANGUAGES else "en"


@login_required
def compare_print(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The doctor-vs-nurse comparison on paper (English or Spanish; ``?format=pdf``): the same
    comparison as the compare page, the prescription first as the reference."""
    patient = access.get_patient_for_user(request.user, patient_id)
    language = _print_language(request)
    with translation.override(language):
        context = plan_views.comparison_context(request, patient, language)
        context.update(
            language=language,
            printed_at=timezone.now(),
            printed_by=request.user,
            screen=request.GET.get("format") != "pdf",
            query=request.GET.urlencode(),
            # an approval's error overrides are printed on every printout of the plan (issue 8)
            comparison_versions=[v for v in (context.get("first"), context.get("second")) if v],
        )
        if context["screen"]:
            return render(request, "ui/print/compare.html", context)
        html = render_to_string("ui/print/compare.html", context, request=request)
    return pdf_response(html, f"ivig-comparison-{patient.pk}-{language}.pdf", "ui/print.css")


@login_required
def lot_search(request: HttpRequest) -> HttpResponse:
    """Every infusion in the user's care teams that used a lot number (``?lot=``), as a page or
    as CSV (``?format=csv``)."""
    lot = lots.normalise(request.GET.get("lot", ""))[:60]
    rows = lots.uses(request.user, lot)
    if request.GET.get("format") == "csv" and lot:
        response = HttpResponse(lots.to_csv(rows), content_type="text/csv; charset=utf-8")
        safe = "".join(c for c in lot if c.isalnum() or c in "-_")[:40] or "lot"
        response["Content-Disposition"] = f'attachment; filename="ivig-lot-{safe}.csv"'
        return response
    return render(request, "ui/lot_search.html", {"lot": lot, "rows": rows})
