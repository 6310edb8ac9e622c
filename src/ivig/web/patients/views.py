"""Patient pages. Every lookup goes through ``ivig.web.access``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ivig.core import units
from ivig.web import access, pages
from ivig.web.access import Action
from ivig.web.history import patient_history
from ivig.web.patients.forms import MeasurementForm, NewPatientForm, PatientForm
from ivig.web.patients.models import Measurement, MeasurementKind, weight_is_stale
from ivig.web.ui import words
from ivig.web.ui.html import value_html

PLANS_SHOWN = 5  # newest plan versions listed on the patient page
MEASUREMENT_PAGE = 10  # weights and heights per page of the patient page
HISTORY_PAGE = 20  # entries per page of the history of changes


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    show_archived = request.GET.get("archived") == "1"
    patients = access.patients_for(request.user, include_archived=show_archived)
    if show_archived:
        patients = patients.filter(archived_at__isnull=False)
    return render(
        request,
        "patients/patient_list.html",
        {
            "patients": patients,
            "show_archived": show_archived,
            "can_add": access.teams_for(request.user, Action.ADD_PATIENT).exists(),
        },
    )


@login_required
def patient_create(request: HttpRequest) -> HttpResponse:
    teams = access.teams_for(request.user, Action.ADD_PATIENT)
    if not teams.exists():
        raise PermissionDenied(_("Only a care team's caregiver can add a patient."))
    asked = "confirm_shown" in request.POST
    form = NewPatientForm(request.POST or None, teams=teams, ask_confirm=asked)
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        language = "es" if (get_language() or "en").startswith("es") else "en"
        warnings = form.first_weight_warnings(language)
        if warnings and not form.cleaned_data.get("confirm_implausible"):
            # the same rule as the weight form: show the finding, save nothing, ask
            if not asked:
                form = NewPatientForm(request.POST, teams=teams, ask_confirm=True)
                form.is_valid()
            return render(
                request,
                "patients/patient_form.html",
                {"form": form, "patient": None, "weight_warnings": warnings},
            )
        with transaction.atomic():
            patient = form.save(commit=False)
            patient.created_by = request.user
            patient.save()
            first = form.measurements(patient, request.user)
            for measurement in first:
                measurement.save()
        if any(m.kind == MeasurementKind.WEIGHT for m in first):
            messages.success(request, _("Patient added with a weight. You can enter a plan now."))
            if request.POST.get("then") == "plan":  # "Save and enter the plan"
                return redirect("plans:create", patient_id=patient.pk)
        else:
            messages.success(request, _("Patient added. Now record a weight."))
        return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "patient": None})


def _display_kg(measurement: Measurement | None) -> str | None:
    """The weight in kg (one decimal) when it was entered in another unit."""
    if measurement is None or measurement.unit == "kg":
        return None
    try:
        kg = units.mass_kg(measurement.quantity())
    except units.QuantityError:
        return None
    return words.weight_kg(kg)  # the one weight display rule


def _display_cm(measurement: Measurement | None) -> str | None:
    if measurement is None or measurement.unit == "cm":
        return None
    try:
        cm = units.length_cm(measurement.quantity())
    except units.QuantityError:
        return None
    return f"{units.round_half_up(cm, 1)} cm"


def _plans_template() -> Any:
    """The plans section of the patient page: the plans app's fragment once it exists."""
    return select_template(["plans/patient_plans.html", "patients/_plans_default.html"])


def _latest_weight_and_height(
    patient: Any, page: Any
) -> tuple[Measurement | None, Measurement | None]:
    """The latest active weight and height. The first page of the list holds the newest
    entries in the same order (newest first), so a kind found there is the latest of its kind
    and is not read again."""
    found: dict[str, Measurement] = {}
    if page.number == 1:
        for m in page.object_list:
            found.setdefault(m.kind, m)
        if page.paginator.num_pages == 1:  # every active entry is on this page: none other
            return found.get(MeasurementKind.WEIGHT), found.get(MeasurementKind.HEIGHT)
    weight = found.get(MeasurementKind.WEIGHT) or patient.latest_weight()
    height = found.get(MeasurementKind.HEIGHT) or patient.latest_height()
    return weight, height


def measurement_rows_html(rows: list[dict[str, str | None]]) -> SafeString:
    """The patient page's weight and height list items, written in Python (a template loop
    cost more than the rest of the list): what was measured (and its conversion), when, by
    whom, and the link to archive a wrong entry for those who record."""
    recorded_by = value_html(_("recorded by"))
    archive = value_html(_("Archive (wrong entry)"))
    items = []
    for row in rows:
        converted = (
            f' <span class="muted">(= {value_html(row["converted"])})</span>'
            if row["converted"]
            else ""
        )
        link = (
            f'<a href="{value_html(row["archive_url"])}">{archive}<span class="visually-hidden">'
            f': {value_html(row["archive_hint"])}</span></a>'
            if row["archive_url"]
            else ""
        )
        items.append(
            f"<li><strong>{value_html(row['what'])}</strong>{converted}"
            f'<div class="muted">{value_html(row["taken"])} · {recorded_by} '
            f"{value_html(row['by'])}</div>{link}</li>"
        )
    return mark_safe("".join(items))  # every value is escaped (value_html)


@login_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    page = pages.page(
        request, patient.measurements.active().select_related("recorded_by"), MEASUREMENT_PAGE
    )
    weight, height = _latest_weight_and_height(patient, page)
    # each row's words are made here once (a template loop costs far more per row)
    can = access.permissions_for(request.user, patient)
    can_record = can[Action.RECORD_MEASUREMENT.value]
    # one URL resolved, each row's made from it (a reverse() per row cost more than the row)
    archive = reverse("patients:measurement_archive", args=(patient.pk, 0))
    head, tail = archive.rsplit("/0/", 1)
    rows = []
    for m in page.object_list:
        what = str(m)  # "Weight: 44 lb"
        taken = words.when(m.taken_at)
        rows.append(
            {
                "what": what,
                "converted": _display_kg(m)
                if m.kind == MeasurementKind.WEIGHT
                else _display_cm(m),
                "taken": taken,
                "by": str(m.recorded_by),
                "archive_url": f"{head}/{m.pk}/{tail}" if can_record else "",
                "archive_hint": f"{what}, {taken}",
            }
        )
    weight_age_days = (timezone.now() - weight.taken_at).days if weight else None
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "can": can,
            "weight": weight,
            "weight_kg": _display_kg(weight),
            "weight_age_days": weight_age_days,
            "weight_stale": weight_is_stale(weight),
            "weight_max_age_days": settings.WEIGHT_MAX_AGE_DAYS,
            "height": height,
            "height_cm": _display_cm(height),
            "rows": rows,
            "rows_html": measurement_rows_html(rows),
            "page": page,
            # the five newest (the section links to the full list); not their order documents
            "plan_versions": list(
                patient.plan_versions.active().select_related("author").defer("order_document")[
                    :PLANS_SHOWN
                ]
            ),
            "plans_template": _plans_template(),
        },
    )


@login_required
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.EDIT_PROFILE)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            form.save()
            messages.success(request, _("Profile saved."))
        return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient})


@login_required
def patient_archive(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Archive a patient (hidden from lists, kept with its history), or bring it back."""
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.ARCHIVE_PATIENT)
    if request.method == "POST":
        if patient.archived_at is None:
            patient.archived_at = timezone.now()
            messages.success(request, _("Patient archived. Nothing was deleted."))
        else:
            patient.archived_at = None
            messages.success(request, _("Patient brought back from the archive."))
        patient.save(update_fields=["archived_at"])
        return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/patient_archive.html", {"patient": patient})


@login_required
def measurement_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(
        request.user, patient_id, action=Action.RECORD_MEASUREMENT
    )
    try:
        kind = MeasurementKind(request.GET.get("kind") or request.POST.get("kind") or "weight")
    except ValueError:
        kind = MeasurementKind.WEIGHT
    initial = {"taken_at": timezone.localtime().replace(second=0, microsecond=0)}
    asked = "confirm_shown" in request.POST
    form = MeasurementForm(request.POST or None, kind=kind, initial=initial, ask_confirm=asked)
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        language = "es" if (get_language() or "en").startswith("es") else "en"
        warnings = form.weight_warnings(patient, language)
        if not warnings or form.cleaned_data.get("confirm_implausible"):
            with transaction.atomic():
                form.build(patient, request.user).save()
            messages.success(request, _("Saved."))
            return redirect("patients:detail", patient_id=patient.pk)
        if not asked:  # show the finding and ask: the weight is kept as typed
            form = MeasurementForm(request.POST, kind=kind, initial=initial, ask_confirm=True)
            form.is_valid()
    return render(
        request,
        "patients/measurement_form.html",
        {"form": form, "patient": patient, "kind": kind, "weight_warnings": warnings},
    )


@login_required
def measurement_archive(request: HttpRequest, patient_id: int, measurement_id: int) -> HttpResponse:
    """Take a wrong entry out of use (it stays in the history)."""
    patient = access.get_patient_for_user(
        request.user, patient_id, action=Action.RECORD_MEASUREMENT
    )
    measurement = get_object_or_404(patient.measurements.active(), pk=measurement_id)
    if request.method == "POST":
        measurement.archived_at = timezone.now()
        measurement.save(update_fields=["archived_at"])
        messages.success(request, _("Entry archived. It stays in the history."))
        return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/measurement_archive.html",
        {"patient": patient, "measurement": measurement},
    )


@login_required
def patient_history_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    history = patient_history(patient)
    number = request.GET.get("page") or "1"
    if number.isdigit() and int(number) > 0:  # read the page with the count, in one query
        history.expect((int(number) - 1) * HISTORY_PAGE, int(number) * HISTORY_PAGE)
    page = pages.page(request, history, HISTORY_PAGE)
    return render(
        request,
        "patients/patient_history.html",
        {"patient": patient, "entries": page.object_list, "page": page},
    )
