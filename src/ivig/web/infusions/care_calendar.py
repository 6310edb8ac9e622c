"""The care calendar of the latest approved plan: a page and an iCalendar download.

Events come from ``ivig.core.timeline.care_timeline`` (through ``records.care_events``). The
download carries no patient name unless ``?name=1`` is asked for (a calendar file is often
synced to third-party servers); both views go through ``ivig.web.access``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ivig.core.infusion_checks import is_plan_snapshot
from ivig.core.timeline import CareEvent
from ivig.render.ical import to_ical
from ivig.web import access
from ivig.web.infusions import records
from ivig.web.patients.models import Patient
from ivig.web.plans.models import Approval


def _language() -> str:
    from django.utils.translation import get_language

    return "es" if (get_language() or "en").startswith("es") else "en"


def latest_approval(patient: Patient) -> Approval | None:
    approvals = Approval.objects.filter(
        plan_version__patient=patient, plan_version__archived_at__isnull=True
    ).select_related("plan_version")
    return next((a for a in approvals if is_plan_snapshot(a.snapshot)), None)


def _events(patient: Patient) -> tuple[Approval | None, tuple[CareEvent, ...] | None]:
    approval = latest_approval(patient)
    return approval, (records.care_events(approval) if approval is not None else None)


@login_required
def calendar_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    approval, events = _events(patient)
    language = _language()
    rows = [
        {
            "kind": e.kind,
            "starts_at": e.starts_at,
            "ends_at": e.ends_at,
            "title": e.title(language),
            "detail": e.detail(language),
            "source": e.source,
        }
        for e in events or ()
    ]
    return render(
        request,
        "infusions/calendar.html",
        {
            "patient": patient,
            "approval": approval,
            "events": rows,
            "has_events": bool(events),
            "course_end": records.course_end(approval) if approval is not None else None,
        },
    )


@login_required
def calendar_ics(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    _approval, events = _events(patient)
    if not events:
        return HttpResponse(
            _("No approved plan with a start date and time: there is no care calendar yet."),
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    with_name = request.GET.get("name") == "1"
    name = patient.name if with_name else None
    calendar_name = _("IVIG care calendar")
    if name:
        calendar_name = f"{calendar_name} – {name}"
    data = to_ical(
        events, calendar_name=calendar_name, include_patient_name=name, language=_language()
    )
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ivig-care-{patient.pk}.ics"'
    return response
