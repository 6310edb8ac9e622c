"""Plan pages: the plan form with a live preview, versions, approval, comparison and printouts.

Views are thin: they read the request, go through ``ivig.web.access``, build the order document
with the forms, and call the core (``build_plan``, ``plan_to_dict``, ``compare``). Nothing
clinical is computed here. Printouts are the same Django templates rendered by WeasyPrint.
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from datetime import datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ivig.core.catalogue import load_catalogue
from ivig.core.compare import compare
from ivig.core.order import OrderError, Problem
from ivig.core.plan import Plan, build_plan
from ivig.render.compare_json import comparison_to_dict
from ivig.render.plan_json import plan_to_dict
from ivig.render.svg_chart import plan_chart_svgs
from ivig.web import access
from ivig.web.access import Action
from ivig.web.accounts.models import User
from ivig.web.patients.models import Patient
from ivig.web.pdf import pdf_response
from ivig.web.plans.approval import ApprovalRefused, approve, digest, error_findings
from ivig.web.plans.forms import (
    DEFAULT_PREMED_ROWS,
    DEFAULT_STEP_ROWS,
    MAX_ROWS,
    PREMED_FIELDS,
    PREMED_PREFIX,
    STEP_PREFIX,
    PlanForm,
    PremedicationFormSet,
    StepFormSet,
    attach_problems,
    first_infusion_choice,
    first_infusion_value,
    initial_from_document,
    order_document,
    problem_text,
    product_facts,
    rows_from_data,
)
from ivig.web.plans.models import Approval, PlanKind, PlanVersion

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
OVERRIDE_PREFIX = "override_"
LANGUAGES = ("en", "es")


def _language(request: HttpRequest | None = None) -> str:
    wanted = (request.GET.get("lang") if request is not None else None) or get_language() or "en"
    wanted = wanted[:2].lower()
    return wanted if wanted in LANGUAGES else "en"


def _user(request: HttpRequest) -> User:
    """The logged-in user (every view here is behind ``login_required``)."""
    return cast(User, request.user)


def _today() -> Any:
    return timezone.localdate()


def compute(document: Any) -> tuple[Plan | None, tuple[Problem, ...]]:
    """The plan for a stored or typed order document, or its problems.

    The plan is a pure function of the document, the date and the catalogue (read once per
    process), and a Plan is immutable: the same document on the same day is computed once per
    process (the plan page, its printout and the infusion pages ask again and again)."""
    try:
        key = json.dumps(document, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):  # not a JSON document: computed as it is, every time
        return _compute(document, _today())
    return _compute_json(key, _today())


@lru_cache(maxsize=256)
def _compute_json(key: str, today: Any) -> tuple[Plan | None, tuple[Problem, ...]]:
    return _compute(json.loads(key), today)


def _compute(document: Any, today: Any) -> tuple[Plan | None, tuple[Problem, ...]]:
    try:
        return build_plan(document, today=today), ()
    except OrderError as exc:
        return None, exc.problems


def plan_display(plan_dict: dict[str, Any], language: str, prefix: str = "") -> dict[str, Any]:
    """Template context for one plan dict: findings worst first, one chart per day."""
    findings = sorted(
        plan_dict.get("findings") or [], key=lambda f: SEVERITY_ORDER.get(f.get("severity"), 3)
    )
    charts = plan_chart_svgs(plan_dict, language, prefix=prefix)
    days = [
        {**day, "chart": mark_safe(chart)}
        for day, chart in zip(plan_dict.get("days") or [], charts, strict=False)
    ]
    return {"plan": plan_dict, "findings": findings, "days": days}


@cache
def print_data() -> dict[str, Any]:
    """Wording for printouts, each with its source (src/ivig/data/print.toml)."""
    text = resources.files("ivig.data").joinpath("print.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# --- The plan form -----------------------------------------------------------------------------


def _defaults() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    initial = {
        "kind": PlanKind.PRESCRIBED,
        "days": "1",
        "dosing_weight": "actual",
        "vial_rounding": "none",
        "titration_form": "steps",
        "first_infusion": "unknown",
    }
    return initial, [{}] * DEFAULT_STEP_ROWS, [{}] * DEFAULT_PREMED_ROWS


def _bound_forms(data: Any) -> tuple[PlanForm, Any, Any]:
    return (
        PlanForm(data),
        StepFormSet(data, prefix=STEP_PREFIX),
        PremedicationFormSet(data, prefix=PREMED_PREFIX),
    )


def _unbound_forms(
    initial: dict[str, Any], steps: list[dict[str, Any]], premeds: list[dict[str, Any]]
) -> tuple[PlanForm, Any, Any]:
    return (
        PlanForm(initial=initial),
        StepFormSet(initial=steps[:MAX_ROWS], prefix=STEP_PREFIX),
        PremedicationFormSet(initial=premeds[:MAX_ROWS], prefix=PREMED_PREFIX),
    )


def _row_action(
    data: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]] | None:
    """Add or remove a row of steps or premedication: re-render with the rows as typed."""
    actions = ("add_step", "remove_step", "add_premed", "remove_premed")
    if not any(name in data for name in actions):
        return None
    steps: list[dict[str, Any]] = rows_from_data(data, STEP_PREFIX, ("rate", "minutes"))
    premeds: list[dict[str, Any]] = rows_from_data(data, PREMED_PREFIX, PREMED_FIELDS)
    if "add_step" in data:
        steps.append({})
    if "add_premed" in data:
        premeds.append({})
    for name, rows in (("remove_step", steps), ("remove_premed", premeds)):
        if name in data:
            with contextlib.suppress(ValueError, IndexError):
                del rows[int(data[name])]
    initial = {key: data.get(key) for key in PlanForm.base_fields if key in data}
    typed = first_infusion_value(data.get("first_infusion"))
    initial["first_infusion"] = first_infusion_choice(typed)
    return initial, steps, premeds


def _check(patient: Patient, data: Any) -> dict[str, Any]:
    """Bind the forms to the typed data and ask the core for the plan (or its problems)."""
    form, steps, premeds = _bound_forms(data)
    context: dict[str, Any] = {"form": form, "steps": steps, "premeds": premeds}
    context["other_problems"] = []
    context["document"] = None
    context["plan_dict"] = None
    if not (form.is_valid() and steps.is_valid() and premeds.is_valid()):
        return context
    document = order_document(patient, form, steps, premeds)
    context["document"] = document
    plan, problems = compute(document)
    if plan is None:
        context["other_problems"] = attach_problems(problems, form, steps, premeds)
        return context
    context["plan_dict"] = plan_to_dict(plan, _language())
    return context


def _facts_for(data: Any) -> dict[str, Any] | None:
    if not data:
        return None
    return product_facts(
        load_catalogue(), data.get("product") or "", data.get("indication") or None
    )


def _editor(
    request: HttpRequest,
    patient: Patient,
    supersedes: PlanVersion | None,
    initial_rows: tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> HttpResponse:
    new_course_from = initial_rows[0].get("new_course_from") if initial_rows else None
    context: dict[str, Any] = {
        "patient": patient,
        "supersedes": supersedes,
        "other_problems": [],
        "plan_dict": None,
    }
    if request.method == "POST":
        rows = _row_action(request.POST)
        if rows is not None:
            form, steps, premeds = _unbound_forms(*rows)
            context.update(form=form, steps=steps, premeds=premeds)
        else:
            context.update(_check(patient, request.POST))
            if "save" in request.POST and context["plan_dict"] is not None:
                form = context["form"]
                kind = form.cleaned_data["kind"]
                based_on = _based_on(patient, request.POST.get("based_on"), kind, supersedes)
                with transaction.atomic():
                    version = PlanVersion.objects.create(
                        patient=patient,
                        kind=kind,
                        label=form.cleaned_data["label"].strip(),
                        order_document=context["document"],
                        author=_user(request),
                        supersedes=supersedes,
                        based_on=based_on,
                    )
                messages.success(request, _("Plan saved as a new version."))
                return redirect("plans:detail", patient_id=patient.pk, version_id=version.pk)
        context["facts"] = _facts_for(request.POST)
    else:
        if initial_rows is not None:
            initial, steps_initial, premeds_initial = initial_rows
        elif supersedes is not None:
            initial, steps_initial, premeds_initial = initial_from_document(
                supersedes.order_document
            )
            initial["kind"] = (
                PlanKind.AMENDED if supersedes.kind == PlanKind.PRESCRIBED else supersedes.kind
            )
            initial["label"] = supersedes.label
            steps_initial += [{}]
        else:
            initial, steps_initial, premeds_initial = _defaults()
            if request.GET.get("kind") in PlanKind.values:
                initial["kind"] = request.GET["kind"]
            if initial["kind"] == PlanKind.PUMP:
                rx = _based_on(patient, request.GET.get("from"), PlanKind.PUMP, None)
                rx = rx if rx is not None and rx.archived_at is None else None
                rx = rx or last_approved_prescription(patient)
                if rx is not None:  # the nurse changes only what differs from the prescription
                    initial, steps_initial, premeds_initial = initial_from_document(
                        rx.order_document
                    )
                    initial["kind"] = PlanKind.PUMP
                    initial["label"] = _("Pump plan for %(plan)s") % {"plan": rx}
                    steps_initial += [{}]
                    context["based_on"] = rx
        form, steps, premeds = _unbound_forms(initial, steps_initial, premeds_initial)
        context.update(form=form, steps=steps, premeds=premeds, facts=None)
    context["new_course_from"] = new_course_from
    if request.method == "POST" and "based_on" not in context:
        context["based_on"] = _based_on(
            patient, request.POST.get("based_on"), PlanKind.PUMP, supersedes
        )
    if context["plan_dict"] is not None:
        context.update(plan_display(context["plan_dict"], _language()))
    context["weight"] = patient.latest_weight()
    context["weight_stale"] = patient.weight_is_stale()
    return render(request, "plans/plan_form.html", context)


def _based_on(
    patient: Patient, value: str | None, kind: str, supersedes: PlanVersion | None
) -> PlanVersion | None:
    """The prescription a pump plan is for: the one named by the form (of this patient, a
    prescription), else the one the edited pump plan was for."""
    if kind != PlanKind.PUMP:
        return None
    found = None
    if value and value.isdigit():
        found = (
            patient.plan_versions.filter(pk=int(value))
            .exclude(kind=PlanKind.PUMP)
            .first()
        )
    if found is None and supersedes is not None:
        found = supersedes.based_on
    return found


@login_required
def plan_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.EDIT_PLANS)
    return _editor(request, patient, None)


def last_approved_prescription(patient: Patient) -> PlanVersion | None:
    """The patient's most recently approved prescription (prescribed or amended, not archived)."""
    approval = (
        Approval.objects.filter(
            plan_version__patient=patient, plan_version__archived_at__isnull=True
        )
        .exclude(plan_version__kind=PlanKind.PUMP)
        .select_related("plan_version")
        .order_by("-approved_at", "-pk")
        .first()
    )
    return approval.plan_version if approval is not None else None


def new_course_rows(
    patient: Patient, last: PlanVersion, today: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The form's rows for a repeat course: the last approved prescription as written (product,
    dose, days, steps, premedication, prescriber), with today's date at the same clock time. The
    weight is always the patient's latest (the order document takes it from the record). Only
    facts from the records change: after a recorded infusion it is no longer the first one and
    the previous product is the one last infused. No clinical value is chosen here."""
    initial, steps, premeds = initial_from_document(last.order_document)
    initial["kind"] = PlanKind.PRESCRIBED
    initial["label"] = last.label
    start = str(initial.get("start") or "")
    initial["start"] = f"{today.isoformat()}T{start.split('T', 1)[1]}" if "T" in start else ""
    infused = patient.infusions.select_related("approval").order_by("-started_at", "-pk").first()
    if infused is not None:
        initial["first_infusion"] = "no"
        product = (infused.approval.snapshot.get("product") or {}).get("id")
        if product:
            initial["previous_product"] = product
    initial["new_course_from"] = last
    return initial, steps, premeds


@login_required
def plan_new_course(request: HttpRequest, patient_id: int) -> HttpResponse:
    """"New course from the last plan": the plan form filled from the last approved
    prescription; saving makes a new prescription that a prescriber approves as usual."""
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.EDIT_PLANS)
    last = last_approved_prescription(patient)
    if last is None:
        messages.info(request, _("There is no approved plan to repeat yet: enter a new plan."))
        return redirect("plans:create", patient_id=patient.pk)
    if request.method == "POST":
        return _editor(request, patient, None)
    return _editor(request, patient, None, new_course_rows(patient, last, _today()))


@login_required
def plan_edit(request: HttpRequest, patient_id: int, version_id: int) -> HttpResponse:
    """Editing never overwrites: saving makes a new version that supersedes this one."""
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.EDIT_PLANS)
    version = get_object_or_404(patient.plan_versions.active(), pk=version_id)
    return _editor(request, patient, version)


@login_required
def plan_preview(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The plan beside the form, as a fragment (HTMX posts here as you type). Saves nothing."""
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.EDIT_PLANS)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    context = _check(patient, request.POST)
    context["facts"] = _facts_for(request.POST)
    context["preview_errors"] = _preview_errors(context)
    if context["plan_dict"] is not None:
        context.update(plan_display(context["plan_dict"], _language(), prefix="preview-"))
    return render(request, "plans/_preview.html", context)


def _preview_errors(context: dict[str, Any]) -> list[str]:
    """Every field error, with the field's label, for the preview panel."""
    out = list(context.get("other_problems") or [])
    for form in [context["form"], *context["steps"].forms, *context["premeds"].forms]:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                out.append(f"{label}: {error}" if label else str(error))
    return out


# --- Versions ------------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    versions = patient.plan_versions.select_related("author", "supersedes").prefetch_related(
        "superseded_by", "approvals"
    )
    return render(
        request,
        "plans/plan_list.html",
        {
            "patient": patient,
            "can": access.permissions_for(request.user, patient),
            "active": [v for v in versions if v.archived_at is None],
            "archived": [v for v in versions if v.archived_at is not None],
        },
    )


@login_required
def plan_detail(request: HttpRequest, patient_id: int, version_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    # the author and the version it replaces are shown: read with it, not one query each
    versions = patient.plan_versions.select_related("author", "supersedes")
    version = get_object_or_404(versions, pk=version_id)
    return render(request, "plans/plan_detail.html", _detail_context(request, patient, version))


def _detail_context(
    request: HttpRequest,
    patient: Patient,
    version: PlanVersion,
    typed_overrides: dict[str, str] | None = None,
) -> dict[str, Any]:
    language = _language()
    plan, problems = compute(version.order_document)
    context: dict[str, Any] = {
        "patient": patient,
        "version": version,
        "can": access.permissions_for(request.user, patient),
        "problems": [f"{p.field}: {problem_text(p)}" for p in problems],
        "approval": version.approvals.select_related("approved_by").first(),
        "newer": version.superseded_by.all(),
    }
    approval = context["approval"]
    if plan is not None:
        plan_dict = plan_to_dict(plan, language)
        context["digest"] = digest(plan_dict)
        context.update(plan_display(plan_dict, language))
        typed = typed_overrides or {}
        seen: dict[str, dict[str, Any]] = {}
        for error in error_findings(plan_dict):
            row = seen.setdefault(
                error["code"],
                {"code": error["code"], "messages": [], "reason": typed.get(error["code"], "")},
            )
            row["messages"].append(error["message"])
        context["override_rows"] = list(seen.values())
        if plan.indication is not None:
            from ivig.core.family import indication_notes

            context["indication_notes"] = indication_notes(
                plan.indication.id, plan.indication.notes, language
            )
    if approval is not None:
        shown = approval.shown_plan
        context["snapshot_valid"] = "days" in shown
        if context["snapshot_valid"]:
            context["snapshot"] = plan_display(shown, approval.language, prefix="approved-")
        recomputed = (
            None
            if plan is None
            else plan_dict
            if approval.language == language
            else plan_to_dict(plan, approval.language)
        )
        context["approval_differs"] = recomputed != shown
    return context


@login_required
def plan_archive(request: HttpRequest, patient_id: int, version_id: int) -> HttpResponse:
    """Archive or bring back a version. An approved version: only a prescriber, with a reason."""
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.EDIT_PLANS)
    version = get_object_or_404(patient.plan_versions.all(), pk=version_id)
    approved = version.is_approved
    if approved:
        access.get_patient_for_user(request.user, patient_id, action=Action.APPROVE_PLANS)
    error = ""
    reason = request.POST.get("reason", "").strip()[:300] if request.method == "POST" else ""
    if request.method == "POST":
        if approved and version.archived_at is None and not reason:
            error = _("An approved plan is archived only with a reason: write why.")
        else:
            if version.archived_at is None:
                version.archived_at = timezone.now()
                version.archive_reason = reason
                messages.success(request, _("Plan version archived. Nothing was deleted."))
            else:
                version.archived_at = None
                version.archive_reason = ""
                messages.success(request, _("Plan version brought back from the archive."))
            version.save(update_fields=["archived_at", "archive_reason"])
            return redirect("plans:detail", patient_id=patient.pk, version_id=version.pk)
    return render(
        request,
        "plans/plan_archive.html",
        {"patient": patient, "version": version, "approved": approved, "error": error,
         "reason": reason},
        status=400 if error else 200,
    )


@login_required
def plan_approve(request: HttpRequest, patient_id: int, version_id: int) -> HttpResponse:
    """Approve through the one gate (``approval.approve``): error findings need a reason each,
    a version is approved once, and only exactly what the prescriber saw is approved."""
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.APPROVE_PLANS)
    version = get_object_or_404(patient.plan_versions.all(), pk=version_id)
    if request.method != "POST":
        return redirect("plans:detail", patient_id=patient.pk, version_id=version.pk)
    typed = {
        key.removeprefix(OVERRIDE_PREFIX): (request.POST.get(key) or "").strip()
        for key in request.POST
        if key.startswith(OVERRIDE_PREFIX)
    }
    try:
        approve(
            version,
            _user(request),
            {code: reason for code, reason in typed.items() if reason},
            language=_language(),
            expected_digest=request.POST.get("digest") or "",
        )
    except ApprovalRefused as refused:
        messages.error(request, refused.message)
        context = _detail_context(request, patient, version, typed)
        context["refused"] = refused
        context["missing_codes"] = {e["code"] for e in refused.errors}
        return render(request, "plans/plan_detail.html", context, status=409)
    messages.success(request, _("Plan approved. The approval keeps what was shown."))
    if request.POST.get("then") == "print":  # "Approve and print": the printable page next
        return redirect("plans:print", patient_id=patient.pk, version_id=version.pk)
    return redirect("plans:detail", patient_id=patient.pk, version_id=version.pk)


# --- Comparison ----------------------------------------------------------------------------------


PRESCRIPTION_KINDS = (PlanKind.PRESCRIBED, PlanKind.AMENDED)


def _is_prescription(version: PlanVersion) -> bool:
    return version.kind in PRESCRIPTION_KINDS


def _approval_of(version: PlanVersion) -> Any:
    approvals = list(version.approvals.all())
    return approvals[0] if approvals else None


def _is_current(version: PlanVersion) -> bool:
    return not any(v.archived_at is None for v in version.superseded_by.all())


def reference_for(pump: PlanVersion, versions: list[PlanVersion]) -> PlanVersion | None:
    """The prescription a pump plan is compared with: the one it was made from when that is
    still active; else the latest approval of a current prescription; else the latest approved
    prescription; else the latest prescription (shown as not approved, never silently)."""
    if pump.based_on is not None and pump.based_on.archived_at is None:
        return pump.based_on
    return reference_for_default(versions)


def compare_pair(
    versions: list[PlanVersion], chosen: list[PlanVersion]
) -> tuple[PlanVersion | None, PlanVersion | None, bool]:
    """(reference, compared, reordered). The prescription is always the reference, whatever
    page opened the comparison and in whatever order the two were named."""
    pumps = [v for v in versions if not _is_prescription(v)]
    if len(chosen) >= 2:
        a, b = chosen[0], chosen[1]
        if _is_prescription(a) == _is_prescription(b):
            # Two prescriptions (or two pump plans): the approved one, else the older, leads.
            def rank(v: PlanVersion) -> tuple[bool, Any, int]:
                return (_approval_of(v) is None, v.created_at, v.pk)

            ref, other = sorted((a, b), key=rank)
        else:
            ref, other = (a, b) if _is_prescription(a) else (b, a)
        return ref, other, ref != a
    if len(chosen) == 1:
        only = chosen[0]
        if not _is_prescription(only):
            return reference_for(only, versions), only, False
        mine = [p for p in pumps if p.based_on_id == only.pk]
        match = next(iter(mine or pumps), None)
        if match is None:
            match = next((v for v in versions if v != only), None)
        return only, match, False
    pump = next(iter(pumps), None)
    if pump is not None:
        return reference_for(pump, versions), pump, False
    rx = reference_for_default(versions)
    return rx, next((v for v in versions if v != rx), None), False


def reference_for_default(versions: list[PlanVersion]) -> PlanVersion | None:
    """The latest approval of a current prescription; else the latest approved prescription;
    else the latest prescription (shown as not approved)."""
    rx = [v for v in versions if _is_prescription(v)]  # newest first
    approved = [v for v in rx if _approval_of(v) is not None]
    return next(iter([v for v in approved if _is_current(v)] or approved or rx), None)


def version_status(version: PlanVersion | None) -> dict[str, Any]:
    if version is None:
        return {}
    return {
        "approval": _approval_of(version),
        "current": _is_current(version),
        "prescription": _is_prescription(version),
    }


@login_required
def plan_compare(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Compare a plan with its prescription. The prescription is the reference whichever page
    opens the comparison: ``?version=N`` (from a plan page), ``?prescription=N&plan=M`` (the
    form) or the old ``?first=&second=`` links all give the same order."""
    patient = access.get_patient_for_user(request.user, patient_id)
    return render(request, "plans/plan_compare.html", comparison_context(request, patient))


def comparison_context(
    request: HttpRequest, patient: Patient, language: str | None = None
) -> dict[str, Any]:
    """The two plans chosen and their comparison, shared by the compare page and its printout.
    The prescription is always the reference (``compare_pair``)."""
    versions = list(
        patient.plan_versions.active()
        .select_related("author", "based_on")
        .prefetch_related("approvals", "superseded_by")
    )
    by_id = {str(v.pk): v for v in versions}
    chosen: list[PlanVersion] = []
    for key in ("prescription", "first", "version", "plan", "second"):
        found = by_id.get(request.GET.get(key, ""))
        if found is not None and found not in chosen:
            chosen.append(found)
    first, second, reordered = compare_pair(versions, chosen)
    if second is not None and second == first:
        second = None
    context: dict[str, Any] = {
        "patient": patient,
        "versions": versions,
        "first": first,
        "second": second,
        "first_status": version_status(first),
        "second_status": version_status(second),
        "reordered": reordered,
        "problems": [],
    }
    if first is not None and second is not None:
        language = language or _language()
        plan_a, problems_a = compute(first.order_document)
        plan_b, problems_b = compute(second.order_document)
        for version, problems in ((first, problems_a), (second, problems_b)):
            context["problems"] += [f"{version}: {p.field}: {problem_text(p)}" for p in problems]
        if plan_a is not None and plan_b is not None:
            result = comparison_to_dict(compare(plan_a, plan_b), language)
            result["findings"] = sorted(
                result.get("findings") or [],  # type: ignore[call-overload]
                key=lambda f: SEVERITY_ORDER.get(f.get("severity"), 3),
            )
            context["comparison"] = result
            context["first_display"] = plan_display(plan_to_dict(plan_a, language), language, "a-")
            context["second_display"] = plan_display(plan_to_dict(plan_b, language), language, "b-")
    return context


# --- Printouts -----------------------------------------------------------------------------------


def _print_context(
    request: HttpRequest, patient: Patient, version: PlanVersion, language: str
) -> dict[str, Any]:
    plan, problems = compute(version.order_document)
    context: dict[str, Any] = {
        "patient": patient,
        "version": version,
        "language": language,
        "problems": [f"{p.field}: {problem_text(p)}" for p in problems],
        "words": print_words(language),
        "printed_at": timezone.localtime(),
        "printed_by": request.user,
        "approval": version.approvals.select_related("approved_by").first(),
    }
    if plan is not None:
        plan_dict = plan_to_dict(plan, language)
        context.update(plan_display(plan_dict, language, prefix="print-"))
        context["vitals"] = vitals_schedule(plan_dict, language)
    return context


def _cite(source_id: str) -> str:
    source = print_data()["sources"][source_id]
    return f"{source['document']}, {source['revision']}, {source['section']}"


def print_words(language: str) -> dict[str, Any]:
    """The printout wording from print.toml in one language, each part with its citation."""
    data = print_data()
    es = language == "es"
    chart = data["chart"]
    return {
        "hydration": data["hydration"][language],
        "hydration_source": _cite(data["hydration"]["source"]),
        "vitals_source": _cite(data["vitals"]["source"]),
        "premedication": data["premedication"][language],
        "premedication_source": _cite(data["premedication"]["source"]),
        "dose_unit_note": chart["dose_unit_note_es" if es else "dose_unit_note_en"],
        "pounds_note": chart["pounds_note_es" if es else "pounds_note_en"],
        "increase_rows": range(1, int(chart["increase_rows"]) + 1),
        "chart_source": _cite(chart["source"]),
        "first_infusion_advice": chart[
            "first_infusion_advice_es" if es else "first_infusion_advice_en"
        ],
        "premedication_timing": chart[
            "premedication_timing_es" if es else "premedication_timing_en"
        ],
        "premedication_timing_source": _cite(chart["premedication_timing_source"]),
        "vitals_moments": [
            data["vitals"][key][language].format(time="__:__", rate="___")
            for key in (
                "before",
                "at_15",
                *(["rate_change"] * int(chart["increase_rows"])),
                "end",
                "after",
            )
        ],
    }


def _clock_after(start: str | None, minutes: int) -> str | None:
    """The clock time ``minutes`` after an ISO start ("2026-12-01T08:30"), or None."""
    if not start:
        return None
    try:
        return (datetime.fromisoformat(start) + timedelta(minutes=minutes)).strftime("%H:%M")
    except ValueError:
        return None


def vitals_schedule(plan_dict: dict[str, Any], language: str = "en") -> list[dict[str, Any]]:
    """When to take vitals on each day: before, at 15 min, at each rate change, end, after.

    The times are read off the engine's step table (no clinical arithmetic); the list of moments
    and its source are in print.toml.
    """
    out = []
    for day in plan_dict.get("days") or []:
        steps = day.get("steps") or []
        if not steps:
            continue
        moments = [{"when": "before", "time": steps[0].get("start_time")}]
        moments.append({"when": "at_15", "time": _clock_after(day.get("start"), 15)})
        for step in steps[1:]:
            moments.append(
                {
                    "when": "rate_change",
                    "time": step.get("start_time"),
                    "rate_ml_h": step.get("rate_ml_h"),
                }
            )
        moments.append({"when": "end", "time": steps[-1].get("end_time")})
        moments.append({"when": "after"})
        vitals = print_data()["vitals"]
        for moment in moments:
            moment["text"] = vitals[moment["when"]][language].format(
                time=moment.get("time") or "__:__", rate=moment.get("rate_ml_h", "")
            )
        out.append({"day": day.get("day"), "date": day.get("date"), "moments": moments})
    return out


def _version_for_print(
    request: HttpRequest, patient_id: int, version_id: int
) -> tuple[Patient, PlanVersion, str]:
    patient = access.get_patient_for_user(request.user, patient_id)
    version = get_object_or_404(patient.plan_versions.all(), pk=version_id)
    return patient, version, _language(request)


@login_required
def plan_print(request: HttpRequest, patient_id: int, version_id: int) -> HttpResponse:
    patient, version, language = _version_for_print(request, patient_id, version_id)
    with translation.override(language):
        context = _print_context(request, patient, version, language)
        context["screen"] = True
        return render(request, "plans/print/plan.html", context)


@login_required
def plan_pdf(request: HttpRequest, patient_id: int, version_id: int) -> HttpResponse:
    patient, version, language = _version_for_print(request, patient_id, version_id)
    with translation.override(language):
        context = _print_context(request, patient, version, language)
        html = render_to_string("plans/print/plan.html", context, request=request)
    return pdf_response(
        html, f"ivig-plan-{version.pk}-{language}.pdf", "plans/print-base.css", "plans/print.css"
    )


def blank_chart(request: HttpRequest) -> HttpResponse:
    """The family's paper chart (the seed's), blank, in English or Spanish, A4 or Letter, on one
    page. Open without a login: it holds no patient data (linked from the login page)."""
    from ivig.web.plans.family_views import sheet_pdf_response

    language = _language(request)
    letter = request.GET.get("paper") == "letter"
    with translation.override(language):
        context = {
            "language": language,
            "words": print_words(language),
            "screen": True,
            "letter": letter,
        }
        if request.GET.get("format") == "pdf":
            context["screen"] = False
            html = render_to_string("plans/print/blank_chart.html", context, request=request)
            paper = "letter" if letter else "a4"
            return sheet_pdf_response(html, f"ivig-infusion-chart-{language}-{paper}.pdf")
        return render(request, "plans/print/blank_chart.html", context)
