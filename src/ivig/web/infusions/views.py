"""Infusion log, check-ins, hydration and history pages. Mounted at /patients/ by
ivig.web.urls; every view goes through ``ivig.web.access`` (viewers read, others record)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Max,
    Min,
    Q,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from ivig.core import infusion_day, units
from ivig.core.checks import fmt
from ivig.core.infusion_checks import (
    check_rate,
    hydration_windows,
    is_plan_snapshot,
    parse_vitals,
    symptom_words,
)
from ivig.core.triage import TriageInputError
from ivig.web import access, pages, sql
from ivig.web.access import Action
from ivig.web.accounts.models import User
from ivig.web.infusions import forms, history_sql, history_table, live_log, records
from ivig.web.infusions.history_sql import CheckInLine, InfusionPage
from ivig.web.infusions.models import (
    CheckIn,
    DisplayPreference,
    EventKind,
    FluidLimit,
    HydrationEntry,
    Infusion,
)
from ivig.web.patients.models import Patient
from ivig.web.plans.approval import start_choices
from ivig.web.plans.models import Approval

WRITE = Action.RECORD_MEASUREMENT
LOG_PAGE = 20  # log entries per page (the newest first: the page stays light)
TIMELINE_PAGE = 50  # timeline rows per page
CHECKINS_SHOWN = 20  # the newest check-ins on the infusions page (the last six courses or so)
# infusions per page of the history table: the last ten (most of a year of courses; every
# infusion is in the doctor's summary, CSV and PDF); each row's summary reads its events
HISTORY_PAGE = 10


def _remembered_unit(request: HttpRequest) -> str | None:
    """The °C/°F this person chose last on a temperature field (None before the first)."""
    return (
        DisplayPreference.objects.filter(user=_user(request))
        .values_list("temperature_unit", flat=True)
        .first()
    )


def _remember_unit(request: HttpRequest, form: Any) -> None:
    """Keep the °C/°F chosen with a temperature that was given, for every temperature field."""
    unit = forms.temperature_unit_of(form)
    if unit and form.is_valid() and form.cleaned_data.get("temperature"):
        DisplayPreference.objects.update_or_create(
            user=_user(request), defaults={"temperature_unit": unit}
        )


def _with_unit(request: HttpRequest, form: Any) -> Any:
    forms.set_temperature_unit(form, _remembered_unit(request))
    return form


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # every view is behind login_required
    return request.user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _language() -> str:
    return "es" if (get_language() or "en").startswith("es") else "en"


_INFUSION_FIELDS, _INFUSION_COLUMNS = sql.columns(Infusion, "i")
_APPROVAL_FIELDS, _APPROVAL_COLUMNS = sql.columns(Approval, "a")


def _infusion(patient: Patient, infusion_id: int) -> Infusion:
    """The patient's infusion with its approved plan, in one hand-written statement (every
    page of an infusion day starts here; ``ivig.web.sql``), as
    ``Infusion.objects.select_related("approval").get(pk=…, patient=…)`` reads it
    (tests/web/test_live_log.py); 404 when the patient has no such infusion."""
    pk = sql.row_id(infusion_id)
    q = sql.quote
    rows = (
        sql.sql_rows(
            f"SELECT {_INFUSION_COLUMNS}, {_APPROVAL_COLUMNS} "
            f"FROM {q(Infusion._meta.db_table)} i "
            f"JOIN {q(Approval._meta.db_table)} a ON a.{q('id')} = i.{q('approval_id')} "
            f"WHERE i.{q('id')} = %s AND i.{q('patient_id')} = %s",
            [pk, patient.pk],
            [*_INFUSION_FIELDS, *_APPROVAL_FIELDS],
        )
        if pk is not None
        else []
    )
    if not rows:
        raise Http404("No such infusion")
    split = len(_INFUSION_FIELDS)
    infusion = sql.instance(Infusion, _INFUSION_FIELDS, rows[0][:split])
    infusion.approval = sql.instance(Approval, _APPROVAL_FIELDS, rows[0][split:])
    infusion.patient = patient  # the one the access check read (not a second copy)
    return infusion


def _approvals(patient: Patient) -> list[Approval]:
    """The patient's approved plans that can be started (their versions not archived)."""
    approvals = (
        Approval.objects.filter(
            plan_version__patient=patient, plan_version__archived_at__isnull=True
        )
        .select_related("plan_version")
        .prefetch_related("plan_version__superseded_by")
    )
    return [a for a in approvals if is_plan_snapshot(a.snapshot)]


# --- Patient's infusions: list, history, start


@login_required
def infusion_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's infusions page in a fixed number of queries however long the record: the
    infusions counted by (plan, day) once (the pager's count, the days started, the running
    infusion, the brand figures and the course end all come from these few rows), the approvals,
    a page of the history and the newest check-ins with their answers and the newest overdue
    ones in one statement (the newest tell whether the course has check-ins, unless the
    patient has more than are shown)."""
    patient = access.get_patient_for_user(request.user, patient_id)
    groups = history_sql.infusion_groups(patient.pk)
    page = pages.page(
        request, InfusionPage(patient.pk, sum(g["count"] for g in groups)), HISTORY_PAGE
    )
    every, replacing = history_sql.startable_approvals(patient.pk)  # as _approvals reads them
    approvals = [a for a in every if is_plan_snapshot(a.snapshot)]
    choices, default = start_choices(approvals, replacing)
    now = timezone.now()
    checkins, overdue, approval_of = _checkins_shown(patient, now)
    overdue_shown = overdue[-records.OVERDUE_SHOWN :]
    shown = default or (approvals[0] if approvals else None)
    next_day: int | None = None
    next_date: date | None = None
    planned_checkins: list[Any] = []
    if shown is not None:
        started = {g["day"] for g in groups if g["approval_id"] == shown.pk}
        next_day = infusion_day.next_day(shown.snapshot, started)
        if next_day is not None:
            next_date = infusion_day.planned_date(shown.snapshot, next_day)
        if not _has_checkins(shown, approval_of):
            # the course's end: the last end of its last day (None until it has ended)
            last_day = max(infusion_day.day_numbers(shown.snapshot), default=None)
            end = max(
                (
                    g["last_end"]
                    for g in groups
                    if g["approval_id"] == shown.pk and g["day"] == last_day and g["last_end"]
                ),
                default=None,
            )
            planned_checkins = records.planned_checkins(shown, end, end_known=True)
    history = records.summaries(page.object_list, approvals)
    # the first page starts with the latest infusion (or shows there is none)
    latest = (history[0].infusion if history else None) if page.number == 1 else True
    change = records.brand_change(patient, shown.snapshot, latest) if shown else None
    running = next(
        (
            {"pk": g["running"], "day": g["day"], "started_at": g["running_at"]}
            for g in groups
            if g["running"] is not None
        ),
        None,
    )
    can = access.permissions_for(request.user, patient)
    form = (  # the start form shows only to those who record, with no infusion running
        forms.StartForm(
            choices=choices,
            default=default,
            initial={"started_at": forms.now_local(), "day": next_day},
        )
        if can[WRITE.value] and running is None and approvals
        else None
    )
    return render(
        request,
        "infusions/infusion_list.html",
        {
            "patient": patient,
            "can": can,
            "history": history,
            "history_rows": history_table.rows_html(history, patient.pk),
            "page": page,
            "brands": records.brand_summary(patient, approvals, plans=groups),
            "form": form,
            "approvals": approvals,
            "start_default": default,
            "brand_change": change,
            "checkins": checkins,
            # the newest overdue check-ins (hundreds after a year without answers), as on the
            # patient page, and whether older ones were left unanswered too
            "overdue": overdue_shown,
            "overdue_rows": history_table.overdue_html(overdue_shown, patient.pk),
            "more_overdue": len(overdue) > records.OVERDUE_SHOWN,
            "now": now,
            "running": running,
            "planned_checkins": planned_checkins,
            "planned_rows": history_table.planned_html(planned_checkins, _language()),
            "checkin_rows": history_table.checkins_html(checkins, patient.pk, now),
            "next_day": next_day,
            "next_date": next_date,
        },
    )


def _checkins_shown(
    patient: Patient, now: datetime
) -> tuple[list[CheckInLine], list[CheckInLine], dict[int, int]]:
    """The newest check-ins (a long history has hundreds), oldest first, each with what the
    list shows of its answers (``answer_lines``: level, time and heading, oldest first); the
    newest ``OVERDUE_SHOWN`` overdue check-ins and one more (to tell there are older ones),
    oldest first (``records.overdue_checkins``); and {check-in id: its plan's approval id}.
    One statement (``history_sql.checkins_shown``)."""
    newest, approval_of, overdue = history_sql.checkins_shown(
        patient.pk, CHECKINS_SHOWN, now, records.OVERDUE_SHOWN + 1
    )
    return newest[::-1], overdue[::-1], approval_of


def _has_checkins(approval: Approval, approval_of: dict[int, int]) -> bool:
    """Whether the course of ``approval`` has check-ins, from the newest check-ins of the
    patient (``approval_of`` their plans) when they tell (one of them is the course's, or
    they are all the patient has)."""
    if approval.pk in approval_of.values():
        return True
    if len(approval_of) < CHECKINS_SHOWN:
        return False
    return CheckIn.objects.filter(infusion__approval=approval).exists()


def _start_refusal(patient: Patient, approval: Approval, day: int) -> str | None:
    """Why this day cannot start now (None when it can)."""
    running = Infusion.objects.filter(patient=patient, ended_at__isnull=True).first()
    if running is not None:
        return _(
            "Day %(day)d, started %(at)s, is still running. Stop it first (record the volume "
            "infused); a patient has one running infusion at a time."
        ) % {
            "day": running.day,
            "at": timezone.localtime(running.started_at).strftime("%Y-%m-%d %H:%M"),
        }
    if day not in infusion_day.day_numbers(approval.snapshot):
        return _("That day is not part of the approved plan.")
    earlier = Infusion.objects.filter(approval=approval, day=day).first()
    if earlier is not None:
        return _(
            "Day %(day)d of this plan was already given (started %(at)s). The next day of the "
            "plan is %(next)s."
        ) % {
            "day": day,
            "at": timezone.localtime(earlier.started_at).strftime("%Y-%m-%d %H:%M"),
            "next": _next_day_words(approval),
        }
    return None


def _next_day_words(approval: Approval) -> str:
    started = Infusion.objects.filter(approval=approval).values_list("day", flat=True)
    following = infusion_day.next_day(approval.snapshot, started)
    return str(following) if following is not None else _("none (every day was given)")


@login_required
def infusion_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start a day of an approved plan. Refused while another infusion of the patient runs and
    for a day already given; the day's date comes from the plan (a warning when it differs)."""
    patient = access.get_patient_for_user(request.user, patient_id, action=WRITE)
    if request.method != "POST":
        return redirect("infusions:list", patient_id=patient.pk)
    approvals = _approvals(patient)
    form = forms.StartForm(request.POST, choices=start_choices(approvals)[0])
    if not form.is_valid():
        messages.error(request, _("Choose an approved plan, a day and the start time."))
        for name, errors in form.errors.items():
            for error in errors:
                field = form.fields.get(name)
                messages.error(request, f"{field.label}: {error}" if field else str(error))
        return redirect("infusions:list", patient_id=patient.pk)
    approval = next((a for a in approvals if a.pk == form.cleaned_data["approval"]), None)
    if approval is None:
        messages.error(request, _("Choose an approved plan, a day and the start time."))
        return redirect("infusions:list", patient_id=patient.pk)
    day: int = form.cleaned_data["day"]
    started_at: datetime = form.cleaned_data["started_at"]
    refusal = _start_refusal(patient, approval, day)
    if refusal is None:
        try:
            with transaction.atomic():
                infusion = Infusion.objects.create(
                    approval=approval,
                    patient=patient,
                    day=day,
                    started_at=started_at,
                    planned_date=infusion_day.planned_date(approval.snapshot, day),
                    started_by=_user(request),
                )
            if infusion.off_plan_date:
                assert infusion.planned_date is not None
                messages.warning(
                    request,
                    _(
                        "The approved plan gives day %(day)d the date %(planned)s; it was "
                        "started on %(started)s. Check that this is intended."
                    )
                    % {
                        "day": day,
                        "planned": infusion.planned_date.isoformat(),
                        "started": timezone.localtime(started_at).date().isoformat(),
                    },
                )
        except IntegrityError:
            refusal = _start_refusal(patient, approval, day) or _(
                "Another infusion of this patient is running: stop it first."
            )
    if refusal is not None:
        messages.error(request, refusal)
        return redirect("infusions:list", patient_id=patient.pk)
    return redirect("infusions:detail", patient_id=patient.pk, infusion_id=infusion.pk)


# --- The live log

EVENT_FORMS: dict[str, type[Any]] = {
    EventKind.PAUSE: forms.ReasonForm,
    EventKind.STOP: forms.StopForm,
    EventKind.RESUME: forms.ResumeForm,
    EventKind.VITALS: forms.VitalsForm,
    EventKind.SYMPTOM: forms.SymptomForm,
    EventKind.PREMEDICATION: forms.PremedicationForm,
    EventKind.FLUID: forms.FluidForm,
    EventKind.VIAL: forms.VialForm,
}


def _log_context(request: HttpRequest, infusion: Infusion, patient: Patient) -> dict[str, Any]:
    """One page of the log (page 1 the newest, oldest first within it) with the entries
    later corrections withdrew, the latest triage that still stands, the stop entry, when vital
    signs are due and the cost of the vials recorded. The pump entries and vials are read once
    for the last three (a long day's thousands of vitals are not)."""
    entries = live_log.LogEntries(infusion, newest_first=True)
    page = pages.page(request, entries, LOG_PAGE)  # page 1: the newest entries
    events: list[live_log.LogEntry] = list(page.object_list)
    # what each entry shows that the template would otherwise work out entry by entry
    # (get_kind_display rebuilds its choices and a {% url %} resolves, for every entry)
    labels = {value: str(label) for value, label in EventKind.choices}
    correct = _url("infusions:correct", infusion.patient, infusion, event_id=0)
    head, tail = correct.rsplit("/0/", 1)
    for event in events:
        event.kind_label = labels.get(event.kind, event.kind)
        event.correct_url = f"{head}/{event.pk}/{tail}"
        event.can_withdraw = event.kind != EventKind.CORRECTION and not event.withdrawn
        event.shown_values = (
            [v for k, v in event.data.items() if k not in ("triage", "signs")]
            if event.kind == EventKind.VITALS
            else list(event.data.values())
        )
        event.line = live_log.line_html(event)
    standing = infusion.current_events((*records.PUMP_KINDS, EventKind.VIAL))
    stops = [e for e in standing if e.kind == EventKind.STOP]
    checks = records.vitals_checks(infusion, pump_events=standing)
    return {
        "events": events,
        "page": page,
        "latest_triage": live_log.latest_triage(infusion),
        "stop_event": stops[-1] if stops else None,
        "vitals_checks": checks,
        "vitals_due": [c for c in checks if c.status == "due"],
        "vitals_sources": list(dict.fromkeys(c.source for c in checks)),
        "cost": _infusion_cost(patient, infusion.snapshot, standing),
    }


def _detail_context(
    request: HttpRequest, patient: Patient, infusion: Infusion, **extra: Any
) -> dict[str, Any]:
    now = forms.now_local()
    snapshot = infusion.snapshot
    day: dict[str, Any] = next(
        (d for d in snapshot.get("days", []) if d.get("day") == infusion.day), {}
    )
    context: dict[str, Any] = {
        "patient": patient,
        "infusion": infusion,
        "can": access.permissions_for(request.user, patient),
        **_log_context(request, infusion, patient),
        "plan_day": day,
        "product": snapshot.get("product", {}),
        "rate_form": forms.RateForm(initial={"at": now}),
        # one link per kind of record: its form is fetched when asked for (htmx swaps it in
        # place; without JavaScript the link opens a page with just that form)
        "record_links": _record_links(patient, infusion, EVENT_FORMS),
        "brand_change": None,
    }
    context.update(extra)
    return context


def _record_links(
    patient: Patient, infusion: Infusion, kinds: Iterable[str]
) -> list[tuple[str, str, str]]:
    """(kind, label, address of its form) for each of these kinds of record."""
    form = _url("infusions:event", patient, infusion, kind="vitals")
    head, tail = form.rsplit("/vitals/", 1)
    return [(kind, str(EventKind(kind).label), f"{head}/{kind}/{tail}") for kind in kinds]


def _infusion_cost(patient: Patient, snapshot: dict[str, Any], standing: list[Any]) -> Any:
    """Issue 11: the cost from the vials actually recorded (``standing``: the entries that
    still stand, vials and the stop among them), at the team's own price."""
    from decimal import Decimal, InvalidOperation

    from ivig.core import family
    from ivig.web.plans.family_views import team_price

    vials = [e.data.get("size") for e in standing if e.kind == EventKind.VIAL]
    if not vials:
        return None
    product_id = (snapshot.get("product") or {}).get("id", "")
    price = team_price(patient.team, product_id)
    stop: dict[str, Any] = next(
        (e.data for e in reversed(standing) if e.kind == EventKind.STOP), {}
    )
    try:
        given = Decimal(str(stop["given_g"])) if stop.get("given_g") else None
    except (InvalidOperation, ValueError):
        given = None
    return {"numbers": family.infusion_cost(vials, given, price), "price": price}


@login_required
def infusion_detail(request: HttpRequest, patient_id: int, infusion_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    infusion = _infusion(patient, infusion_id)
    return render(
        request, "infusions/infusion_detail.html", _detail_context(request, patient, infusion)
    )


@login_required
def infusion_timeline(request: HttpRequest, patient_id: int, infusion_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    infusion = _infusion(patient, infusion_id)
    rows = records.timeline(infusion)
    page = pages.page(request, rows, TIMELINE_PAGE, newest_last=True)
    return render(
        request,
        "infusions/timeline.html",
        {
            "patient": patient,
            "infusion": infusion,
            "rows": page.object_list,
            "page": page,
            "chart": _chart_svg(infusion, rows),
        },
    )


def _chart_svg(infusion: Infusion, rows: list[records.TimelineRow]) -> str:
    """Planned (steps) and actual (line) pump rate against minutes, as a small inline SVG."""
    from ivig.core.infusion_checks import planned_steps

    steps = planned_steps(infusion.snapshot, infusion.day)
    if not steps:
        return ""
    end = max([steps[-1].end_min] + [r.minute for r in rows]) or Decimal(1)
    top = max([s.rate_ml_h for s in steps] + [r.actual_ml_h for r in rows]) or Decimal(1)
    width, height, pad = 600, 240, 40

    def x(minute: Decimal) -> str:
        return fmt(pad + (width - 2 * pad) * max(minute, Decimal(0)) / end, 1)

    def y(rate: Decimal) -> str:
        return fmt(height - pad - (height - 2 * pad) * rate / top, 1)

    planned = " ".join(
        f"{x(s.start_min)},{y(s.rate_ml_h)} {x(s.end_min)},{y(s.rate_ml_h)}" for s in steps
    )
    actual_points = []
    last = Decimal(0)
    for row in rows:
        actual_points.append(f"{x(row.minute)},{y(last)}")
        actual_points.append(f"{x(row.minute)},{y(row.actual_ml_h)}")
        last = row.actual_ml_h
    title = _("Pump rate (mL/h): planned (dashed) and actual (solid) against minutes")
    return (
        f'<svg role="img" aria-label="{title}" viewBox="0 0 {width} {height}" '
        f'class="rate-chart" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#555"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#555"/>'
        f'<text x="{pad}" y="{pad - 8}" font-size="12">{fmt(top, 1)} mL/h</text>'
        f'<text x="{width - pad}" y="{height - pad + 16}" font-size="12" text-anchor="end">'
        f"{fmt(end, 0)} min</text>"
        f'<polyline points="{planned}" fill="none" stroke="#1f5f99" stroke-width="2" '
        f'stroke-dasharray="6 4"/>'
        f'<polyline points="{" ".join(actual_points)}" fill="none" stroke="#b3261e" '
        f'stroke-width="2.5"/></svg>'
    )


def _rate_preview(infusion: Infusion, form: forms.RateForm) -> Any:
    """The core's RateCheck for a bound, valid form (None after adding the field error)."""
    try:
        minute = records.minutes_since_start(infusion, form.cleaned_data["at"])
        return check_rate(infusion.snapshot, infusion.day, minute, form.cleaned_data["rate"])
    except units.QuantityError as exc:
        form.add_error("rate", f"{exc.problem}. {_('Accepted:')} {exc.accepted}")
        return None


@login_required
def rate_check(request: HttpRequest, patient_id: int, infusion_id: int) -> HttpResponse:
    """HTMX fragment: the planned step at that time and the warnings, before saving."""
    patient = access.get_patient_for_user(request.user, patient_id, action=WRITE)
    infusion = _infusion(patient, infusion_id)
    form = forms.RateForm(request.POST or None)
    result = _rate_preview(infusion, form) if form.is_valid() else None
    return render(
        request,
        "infusions/_rate_check.html",
        {"form": form, "check": result, "language": _language()},
    )


@login_required
def rate_change(request: HttpRequest, patient_id: int, infusion_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id, action=WRITE)
    infusion = _infusion(patient, infusion_id)
    if request.method != "POST":
        return redirect("infusions:detail", patient_id=patient.pk, infusion_id=infusion.pk)
    form = forms.RateForm(request.POST)
    result = _rate_preview(infusion, form) if form.is_valid() else None
    if result is not None and request.POST.get("action") != "check":
        reason = form.cleaned_data.get("reason", "").strip()
        if result.reason_required and not reason:
            form.add_error(
                "reason",
                _("This rate is above what is planned or advised: give a reason to save it."),
            )
        else:
            planned = result.planned
            records.record(
                infusion,
                EventKind.RATE_CHANGE,
                form.cleaned_data["at"],
                {
                    "rate": result.rate_text,
                    "pump_rate_ml_h": fmt(result.pump_rate_ml_h, 1),
                    "rate_ml_kg_h": fmt(result.rate_ml_kg_h, 3),
                    "planned_step": planned.step if planned else None,
                    "planned_ml_h": fmt(planned.rate_ml_h, 1) if planned else None,
                    "warnings": [
                        {"code": w.code, "message": w.message(_language()), "source": w.source}
                        for w in result.warnings
                    ],
                    "reason": reason,
                },
                request.user,
            )
            messages.success(request, _("Rate change recorded."))
            return redirect("infusions:detail", patient_id=patient.pk, infusion_id=infusion.pk)
    context = _detail_context(
        request, patient, infusion, rate_form=form, check=result, language=_language()
    )
    return render(request, "infusions/infusion_detail.html", context, status=200)


@login_required
def event_create(
    request: HttpRequest, patient_id: int, infusion_id: int, kind: str
) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id, action=WRITE)
    infusion = _infusion(patient, infusion_id)
    if kind not in EVENT_FORMS:
        raise Http404("No such kind of entry")
    if request.method != "POST":
        # the form asked for from the infusion page: the fragment (htmx) or a page with it
        fresh = _with_unit(
            request, EVENT_FORMS[kind](initial={"at": forms.now_local()}, prefix=kind)
        )
        fresh.fields["at"].widget.attrs["autofocus"] = True  # htmx focuses it once swapped in
        if _is_htmx(request):
            return _record_fragment(request, patient, infusion, kind, fresh, saved=False)
        return _record_page(request, patient, infusion, kind, fresh)
    form = EVENT_FORMS[kind](request.POST, prefix=kind)
    data: dict[str, Any] | None = None
    if form.is_valid():
        data = _event_data(kind, form, patient, infusion)
    if data is None:
        if _is_htmx(request):
            return _record_fragment(request, patient, infusion, kind, form, saved=False)
        return _record_page(request, patient, infusion, kind, form)
    at = form.cleaned_data["at"]
    _remember_unit(request, form)
    with transaction.atomic():
        records.record(infusion, kind, at, data, request.user)
        if kind == EventKind.STOP:
            created = records.end_infusion(infusion, at)
            if created:
                messages.info(
                    request,
                    _("Infusion ended. %(count)d check-ins were planned, the first due %(due)s.")
                    % {
                        "count": len(created),
                        "due": timezone.localtime(created[0].due_at).strftime("%Y-%m-%d %H:%M"),
                    },
                )
    if _is_htmx(request) and kind != EventKind.STOP:
        return _record_fragment(request, patient, infusion, kind, None, saved=True)
    if _is_htmx(request):  # a stop changes the whole page (no more forms, the check-ins)
        messages.success(request, _("Recorded."))
        return HttpResponseClientRedirect(_url("infusions:detail", patient, infusion))
    if kind == EventKind.SYMPTOM:
        return redirect(f"{_url('infusions:detail', patient, infusion)}#triage")
    messages.success(request, _("Recorded."))
    return redirect("infusions:detail", patient_id=patient.pk, infusion_id=infusion.pk)


def _record_fragment(
    request: HttpRequest,
    patient: Patient,
    infusion: Infusion,
    kind: str,
    form: Any | None,
    saved: bool,
) -> HttpResponse:
    """The htmx answer about a record form: the form (fresh when asked for, with its errors
    after a refused save) or, after a save, the link that opens it again with "Recorded.", and
    the log's newest page, the latest triage, the cost and the vitals times swapped in out of
    band, instead of the whole page."""
    context: dict[str, Any] = {
        "patient": patient,
        "infusion": infusion,
        "kind": kind,
        "label": EventKind(kind).label,
        "form": form,
        "saved": saved,
        "record_links": _record_links(patient, infusion, [kind]),
    }
    if saved:
        context.update(_log_context(request, infusion, patient))
        context["can"] = access.permissions_for(request.user, patient)
    return render(request, "infusions/_record_answer.html", context)


def _record_page(
    request: HttpRequest, patient: Patient, infusion: Infusion, kind: str, form: Any
) -> HttpResponse:
    """Without JavaScript: a light page with just this form (it posts to the same address,
    and a refused save comes back here with the errors named)."""
    return render(
        request,
        "infusions/record.html",
        {
            "patient": patient,
            "infusion": infusion,
            "kind": kind,
            "label": EventKind(kind).label,
            "form": form,
            "plain": True,
        },
    )


def _url(name: str, patient: Patient, infusion: Infusion, **more: int | str) -> str:
    from django.urls import reverse

    return reverse(name, kwargs={"patient_id": patient.pk, "infusion_id": infusion.pk, **more})


def _event_data(
    kind: str, form: Any, patient: Patient, infusion: Infusion
) -> dict[str, Any] | None:
    data = {k: v for k, v in form.cleaned_data.items() if k != "at"}
    if kind == EventKind.STOP:
        return _stop_data(form, infusion)
    if kind == EventKind.VITALS:
        vitals = parse_vitals({k: str(v) for k, v in data.items()})
        for name, message in vitals.errors.items():
            form.add_error(None if name == "__all__" else name, message)
        if vitals.errors:
            return None
        try:
            result = records.run_vitals_triage(
                patient, infusion, vitals.signs, form.cleaned_data["at"], _language()
            )
        except TriageInputError as exc:
            for problem in exc.problems:
                form.add_error(None, f"{problem.problem}. {_('Accepted:')} {problem.accepted}")
            return None
        signs = {
            name: str(value)
            for name, value in vars(vitals.signs).items()
            if isinstance(value, Decimal)
        }
        return {**vitals.values, "signs": signs, "triage": result}
    if kind == EventKind.VIAL:
        data["expiry"] = data["expiry"].isoformat()
        if data["expiry"] < timezone.localdate().isoformat():
            form.add_error("expiry", _("This vial has expired: do not use it."))
            return None
        return data
    if kind in (EventKind.PREMEDICATION, EventKind.FLUID):
        field = "dose" if kind == EventKind.PREMEDICATION else "volume"
        kinds = (
            (units.Kind.VOLUME,)
            if kind == EventKind.FLUID
            else (
                units.Kind.DOSE_FIXED,
                units.Kind.VOLUME,
                units.Kind.MASS,
            )
        )
        try:
            units.parse_any(data[field], field, kinds)
        except units.QuantityError as exc:
            if kind == EventKind.PREMEDICATION and _is_small_mass(data[field]):
                return data
            form.add_error(field, f"{exc.problem}. {_('Accepted:')} {exc.accepted}")
            return None
        return data
    if kind == EventKind.SYMPTOM:
        report: dict[str, Any] = {"symptoms": data["symptoms"], "infusion_running": True}
        if data.get("temperature"):
            report["temperature"] = data["temperature"]
        if data.get("free_text", "").strip():
            report["free_text"] = data["free_text"].strip()
        try:
            result = records.run_triage(patient, infusion.snapshot, report, _language())
        except TriageInputError as exc:
            for problem in exc.problems:
                name = problem.field.removeprefix("report.")
                form.add_error(
                    name if name in form.fields else None,
                    f"{problem.problem}. {_('Accepted:')} {problem.accepted}",
                )
            return None
        return {
            "symptoms": data["symptoms"],
            "symptom_words": [w for _n, w in symptom_words(data["symptoms"], _language())],
            "temperature": data.get("temperature", ""),
            "free_text": data.get("free_text", "").strip(),
            "triage": result,
        }
    return data


def _stop_data(form: Any, infusion: Infusion) -> dict[str, Any] | None:
    """The volume infused (typed from the pump, else from the rate log), the grams it holds and,
    when it is short of the day's volume, the reason (required)."""
    if infusion.ended_at is not None:
        form.add_error(None, _("This infusion has already ended."))
        return None
    at: datetime = form.cleaned_data["at"]
    typed = form.cleaned_data["volume"].strip()
    reason = form.cleaned_data["reason"].strip()
    if typed:
        try:
            volume_ml = units.ml(units.parse(typed, "volume", units.Kind.VOLUME))
        except units.QuantityError as exc:
            form.add_error("volume", f"{exc.problem}. {_('Accepted:')} {exc.accepted}")
            return None
        if volume_ml < 0:
            form.add_error("volume", _("The volume infused cannot be negative."))
            return None
        source = "pump"
    else:
        logged = records.infused_ml(infusion, at)
        if logged is None:
            form.add_error(
                "volume",
                _("No rate was logged for this infusion: type the volume infused from the pump."),
            )
            return None
        volume_ml, source = logged, "rate_log"
    result = infusion_day.stopped(infusion.snapshot, infusion.day, volume_ml)
    if result.short and not reason:
        form.add_error(
            "reason",
            _(
                "%(given)s mL was infused, %(short)s mL less than the day's %(planned)s mL: "
                "give the reason to stop here."
            )
            % {
                "given": fmt(volume_ml, 1),
                "short": fmt(result.short_by_ml, 1),
                "planned": fmt(result.planned_volume_ml or Decimal(0), 1),
            },
        )
        return None
    return {
        "reason": reason,
        "volume": typed or f"{fmt(volume_ml, 1)} mL",
        "volume_infused_ml": fmt(volume_ml, 1),
        "volume_source": source,
        "planned_volume_ml": (
            fmt(result.planned_volume_ml, 1) if result.planned_volume_ml is not None else None
        ),
        "given_g": fmt(result.given_g, 2) if result.given_g is not None else None,
        "planned_g": fmt(result.planned_g, 2) if result.planned_g is not None else None,
        "short_by_ml": fmt(result.short_by_ml, 1),
    }


def _is_small_mass(text: str) -> bool:
    import re

    return bool(re.fullmatch(r"\s*\d+(\.\d+)?\s*(mg|µg|mcg|g)\s*", text))


@login_required
def event_correct(
    request: HttpRequest, patient_id: int, infusion_id: int, event_id: int
) -> HttpResponse:
    """Withdraw a wrong entry: a new correction event pointing at it (the old one stays)."""
    patient = access.get_patient_for_user(request.user, patient_id, action=WRITE)
    infusion = _infusion(patient, infusion_id)
    event = get_object_or_404(infusion.events, pk=event_id)
    if event.kind == EventKind.CORRECTION or event.corrections.exists():
        messages.error(request, _("This entry was already corrected."))
        return redirect("infusions:detail", patient_id=patient.pk, infusion_id=infusion.pk)
    form = forms.CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        records.record(
            infusion,
            EventKind.CORRECTION,
            timezone.now(),
            {"reason": form.cleaned_data["reason"], "withdrawn_kind": event.kind},
            request.user,
            corrects=event,
        )
        messages.success(request, _("The entry is withdrawn; it stays in the record, crossed out."))
        return redirect("infusions:detail", patient_id=patient.pk, infusion_id=infusion.pk)
    return render(
        request,
        "infusions/correct.html",
        {"patient": patient, "infusion": infusion, "event": event, "form": form},
    )


# --- Check-ins


@login_required
def checkin(request: HttpRequest, patient_id: int, checkin_id: int) -> HttpResponse:
    """A check-in and every answer given to it. Each answer is a new record with its triage (a
    later answer never replaces an earlier one); the highest level of all answers is shown."""
    patient = access.get_patient_for_user(request.user, patient_id)
    item = get_object_or_404(
        CheckIn.objects.select_related("infusion", "infusion__approval").prefetch_related(
            "answers__answered_by"
        ),
        pk=checkin_id,
        patient=patient,
    )
    can_answer = access.can(request.user, patient, WRITE)
    form = _with_unit(request, forms.CheckInForm(request.POST or None))
    if request.method == "POST":
        access.check(request.user, patient, WRITE)
        if form.is_valid():
            ended = item.infusion.ended_at or item.infusion.started_at
            hours = max(Decimal(0), Decimal(str((timezone.now() - ended).total_seconds())) / 3600)
            report: dict[str, Any] = {
                "symptoms": form.cleaned_data["symptoms"],
                "headache_score": form.cleaned_data["headache"],
                "hours_since_infusion_end": float(
                    min(hours, Decimal(8000)).quantize(Decimal("0.1"))
                ),
            }
            if form.cleaned_data["temperature"]:
                report["temperature"] = form.cleaned_data["temperature"]
            if form.cleaned_data["free_text"].strip():
                report["free_text"] = form.cleaned_data["free_text"].strip()
            try:
                result = records.run_triage(patient, item.infusion.snapshot, report, _language())
            except TriageInputError as exc:
                for problem in exc.problems:
                    name = problem.field.removeprefix("report.")
                    form.add_error(
                        name if name in form.fields else None,
                        f"{problem.problem}. {_('Accepted:')} {problem.accepted}",
                    )
            else:
                kept = {
                    **report,
                    "symptom_words": [
                        w for _n, w in symptom_words(report["symptoms"], _language())
                    ],
                }
                records.answer_checkin(item, _user(request), kept, result)
                _remember_unit(request, form)
                messages.success(request, _("Answers saved."))
                return redirect("infusions:checkin", patient_id=patient.pk, checkin_id=item.pk)
    answers = item.answer_list()
    highest = item.highest()
    return render(
        request,
        "infusions/checkin.html",
        {
            "patient": patient,
            "item": item,
            "form": form,
            "can_answer": can_answer,
            "answers": list(reversed(answers)),
            "highest": highest,
            "focus": item.focus.get(_language(), ""),
            "overdue": not answers and item.due_at <= timezone.now(),
        },
    )


# --- Hydration


def _weight_kg(patient: Patient) -> Decimal | None:
    """The patient's latest recorded weight in kg (None when there is none or it is bad)."""
    weight = patient.latest_weight()
    if weight is None:
        return None
    try:
        return units.mass_kg(weight.quantity())
    except units.QuantityError:
        return None


def _drink_ml(form: Any) -> Decimal | None:
    """The drink in mL through the one parser (mL, L, oz, cups), or None after a field error."""
    try:
        drink = units.parse_drink_volume(form.cleaned_data["volume"], "volume")
        return units.round_half_up(units.ml(drink), 1)  # stored to 0.1 mL
    except units.QuantityError as exc:
        form.add_error("volume", f"{exc.problem}. {_('Accepted:')} {exc.accepted}")
        return None


@login_required
def hydration(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Drinks around the infusion. A drink in the future is refused; a single drink above the
    bound (a design choice in hydration.toml) is saved only once the person confirms it."""
    patient = access.get_patient_for_user(request.user, patient_id)
    form = forms.HydrationForm(request.POST or None, initial={"at": forms.now_local()})
    ask_confirm = False
    if request.method == "POST":
        access.check(request.user, patient, WRITE)
        volume_ml = _drink_ml(form) if form.is_valid() else None
        if volume_ml is not None:
            bound = infusion_day.single_entry_bound_ml(_weight_kg(patient))
            if volume_ml > bound.bound_ml and not form.cleaned_data["confirm"]:
                ask_confirm = True
                form.add_error(
                    "volume",
                    _(
                        "%(volume)s mL in one drink is more than %(bound)s mL (%(rule)s; a design "
                        "choice: no guideline gives a limit for one drink). Check the amount and "
                        "unit; if it is right, tick the confirmation and save again."
                    )
                    % {
                        "volume": fmt(volume_ml, 0),
                        "bound": fmt(bound.bound_ml, 0),
                        "rule": bound.words(_language()),
                    },
                )
            else:
                HydrationEntry.objects.create(
                    patient=patient,
                    at=form.cleaned_data["at"],
                    volume=form.cleaned_data["volume"].strip(),
                    volume_ml=volume_ml,
                    recorded_by=_user(request),
                )
                messages.success(request, _("Drink recorded."))
                return redirect("infusions:hydration", patient_id=patient.pk)
    context = _hydration_context(request, patient, form)
    context["ask_confirm"] = ask_confirm
    return render(request, "infusions/hydration.html", context)


def _course(patient: Patient) -> tuple[datetime | None, Infusion | None, datetime | None]:
    """The start of the first infusion of the latest course (the approval of the latest
    infusion), the latest infusion, and when the course's last day actually ended (as
    ``records.course_end``; None until it has): two reads, however many infusions the course
    has."""
    latest = Infusion.objects.filter(patient=patient).select_related("approval").first()
    if latest is None:
        return None, None, None
    days = infusion_day.day_numbers(latest.approval.snapshot)
    # the two ends of the course in one read (the infusion indexes by approval serve both)
    wanted: dict[str, Any] = {"first": Min("started_at", filter=Q(patient=patient))}
    if days:
        wanted["end"] = Max("ended_at", filter=Q(day=days[-1]))
    ends = Infusion.objects.filter(approval=latest.approval_id).aggregate(**wanted)
    return ends["first"], latest, ends.get("end")


def drunk_ml(patient: Patient, windows: list[tuple[datetime, datetime, bool]]) -> list[Decimal]:
    """The mL the patient drank in each window (start, end, whether the end is included), of
    the drinks not archived, summed by the database in one statement: exact (whole tenths of
    a mL, as stored, summed as integers), whatever the number of drinks. Hand-written: the
    ORM took ~0.5 ms of Python to build the sums against µs of SQLite."""
    if not windows:
        return []
    ops, q = connection.ops, connection.ops.quote_name
    at, tenths = q("at"), f"CAST(ROUND({q('volume_ml')} * 10) AS BIGINT)"
    sums: list[str] = []
    params: list[Any] = []
    for start, end, closed in windows:
        sums.append(
            f"SUM(CASE WHEN {at} >= %s AND {at} {'<=' if closed else '<'} %s THEN {tenths} END)"
        )
        params += [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(sums)} FROM {q(HydrationEntry._meta.db_table)} "
            f"WHERE {q('patient_id')} = %s AND {q('archived_at')} IS NULL",
            [*params, patient.pk],
        )
        row = cursor.fetchone()
    return [Decimal(int(total or 0)).scaleb(-1) for total in row]


def _hydration_context(request: HttpRequest, patient: Patient, form: Any) -> dict[str, Any]:
    language = _language()
    now = timezone.now()
    entries = HydrationEntry.objects.filter(patient=patient).filter(archived_at__isnull=True)
    limit = FluidLimit.objects.filter(patient=patient).filter(archived_at__isnull=True).first()
    # "after" counts from the actual end of the course (the last day of the approved plan)
    first_start, latest, end_of_course = _course(patient)
    progress: list[dict[str, Any]] = []
    for window in hydration_windows():
        start: datetime | None = None
        end: datetime | None = None
        waiting = ""
        if window.name == "before" and first_start is not None:
            end = first_start
            start = end + timedelta(hours=float(window.from_h))
        elif window.name == "during" and latest is not None:
            start, end = latest.started_at, latest.ended_at or now
        elif window.name == "after":
            if end_of_course is not None:
                start = end_of_course
                end = end_of_course + timedelta(hours=float(window.to_h))
            else:
                waiting = _("starts when the last day of the course ends")
        if window.name != "after" and latest is None:
            waiting = _("starts with the next infusion")
        progress.append({"window": window, "start": start, "end": end, "waiting": waiting})
    # a drink counts in a window from its start until its end or now, whichever comes first
    counted = [p for p in progress if p["start"] and p["end"]]
    sums = drunk_ml(
        patient,
        [(p["start"], min(p["end"], now), False) for p in counted]
        + [(now - timedelta(hours=24), now, True)],
    )
    last_24h = sums.pop()
    totals = {id(p): total for p, total in zip(counted, sums, strict=True)}
    for item in progress:
        window = item["window"]
        start, end = item["start"], item["end"]
        total: Decimal = totals.get(id(item), Decimal(0))
        hours = (end - start).total_seconds() / 3600 if start and end else 0
        allowed = limit.limit_ml * Decimal(str(hours)) / 24 if limit and hours else None
        item.update(
            {
                "words": window.es if language == "es" else window.en,
                "total_ml": fmt(total, 0),
                "allowed_ml": fmt(allowed, 0) if allowed is not None else None,
                "over": allowed is not None and total > allowed,
                "percent": min(100, int(total * 100 / allowed)) if allowed else None,
            }
        )
    age = units.years_between(patient.birth_date, timezone.localdate())
    need = infusion_day.maintenance(_weight_kg(patient), age)
    return {
        "patient": patient,
        "can": access.permissions_for(request.user, patient),
        "form": form,
        "limit_form": forms.FluidLimitForm(),
        "entries": list(entries.select_related("recorded_by")[:50]),
        "limit": limit,
        "progress": progress,
        "infusion": latest,
        "last_24h_ml": fmt(last_24h, 0),
        "today": timezone.localdate(),
        "need": need,
        "need_low": fmt(need.low_ml, 0) if need else None,
        "need_high": fmt(need.high_ml, 0) if need else None,
    }


@login_required
def fluid_limit(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id, action=Action.EDIT_PROFILE)
    if request.method != "POST":
        return redirect("infusions:hydration", patient_id=patient.pk)
    form = forms.FluidLimitForm(request.POST)
    if form.is_valid():
        try:
            limit_ml = _limit_ml_per_day(form.cleaned_data["limit"])
        except units.QuantityError as exc:
            form.add_error("limit", f"{exc.problem}. {_('Accepted:')} {exc.accepted}")
        else:
            with transaction.atomic():
                FluidLimit.objects.filter(patient=patient).filter(archived_at__isnull=True).update(
                    archived_at=timezone.now()
                )
                FluidLimit.objects.create(
                    patient=patient,
                    limit=form.cleaned_data["limit"].strip(),
                    limit_ml=limit_ml,
                    reason=form.cleaned_data["reason"],
                    set_by=_user(request),
                )
            messages.success(request, _("Fluid limit set."))
            return redirect("infusions:hydration", patient_id=patient.pk)
    context = _hydration_context(
        request, patient, forms.HydrationForm(initial={"at": forms.now_local()})
    )
    context["limit_form"] = form
    return render(request, "infusions/hydration.html", context)


def _limit_ml_per_day(text: str) -> Decimal:
    """A limit per day ("1200 mL/day", "1.2 L/day", "40 oz/day"); a plain volume ("1 L") is
    read per 24 h, as the field says. Raises QuantityError (the per-day message) otherwise."""
    try:
        value = units.ml_per_day(units.parse_volume_per_day(text, "limit"))
    except units.QuantityError as per_day:
        try:
            value = units.ml(units.parse_drink_volume(text, "limit"))
        except units.QuantityError:
            raise per_day from None
    return units.round_half_up(value, 1)  # stored to 0.1 mL


# --- Doctor summary


def _date_param(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def summary_csv(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    start = _date_param(request.GET.get("from"))
    end = _date_param(request.GET.get("to"))
    history = records.patient_history(patient, start, end)
    response = HttpResponse(
        records.summary_csv(patient, history), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="ivig-summary-{patient.pk}-{start or "all"}-{end or "now"}.csv"'
    )
    return response


def _summary_chart_svg(history: list[records.InfusionSummary]) -> str:
    """Highest pump rate (bars, mL/h) and reactions (count above each bar) per infusion."""
    if not history:
        return ""
    width, height, pad = 640, 260, 44
    top = max((i.highest_ml_h for i in history if i.highest_ml_h is not None), default=None)
    top = top or Decimal(1)
    slot = Decimal(width - 2 * pad) / len(history)
    bar = slot * Decimal("0.6")
    inner = Decimal(height - 2 * pad)
    title = _("Highest pump rate (mL/h, bars) and reactions (red count) per infusion")
    parts = [
        f'<svg role="img" aria-label="{title}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" class="summary-chart" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{title}</title>"
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#555"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" '
        f'stroke="#555"/><text x="{pad}" y="{pad - 10}" font-size="11">{fmt(top, 1)} mL/h</text>'
    ]
    for index, item in enumerate(history):
        x = Decimal(pad) + slot * index + (slot - bar) / 2
        rate = item.highest_ml_h or Decimal(0)
        h = inner * rate / top
        y = Decimal(height - pad) - h
        parts.append(
            f'<rect x="{fmt(x, 1)}" y="{fmt(y, 1)}" width="{fmt(bar, 1)}" height="{fmt(h, 1)}" '
            f'fill="#1f5f99"/>'
        )
        label = timezone.localtime(item.infusion.started_at).strftime("%m-%d")
        centre = fmt(x + bar / 2, 1)
        parts.append(
            f'<text x="{centre}" y="{height - pad + 14}" font-size="10" text-anchor="middle">'
            f"{label}</text>"
        )
        value = fmt(rate, 1) if item.highest_ml_h is not None else "–"
        parts.append(
            f'<text x="{centre}" y="{fmt(y - 4, 1)}" font-size="10" text-anchor="middle">'
            f"{value}</text>"
        )
        if item.reactions:
            parts.append(
                f'<text x="{centre}" y="{pad - 10 + 14}" font-size="11" fill="#b3261e" '
                f'text-anchor="middle" font-weight="bold">{len(item.reactions)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _summary_family(patient: Patient) -> dict[str, Any]:
    """Issue 11: IgG troughs and infections between courses, and the live-vaccine wait and
    antibody-test caution of the last approved course (from the care timeline)."""
    from ivig.web.patients.between import between_context

    language = "es" if (translation.get_language() or "en").startswith("es") else "en"
    notes: list[dict[str, Any]] = []
    approval = (
        Approval.objects.filter(plan_version__patient=patient)
        .select_related("plan_version")
        .order_by("-approved_at")
        .first()
    )
    events = records.care_events(approval) if approval is not None else None
    for event in events or ():
        if event.kind in ("vaccine_caution", "lab_reminder"):
            notes.append(
                {
                    "starts_at": event.starts_at,
                    "title": event.title(language),
                    "detail": event.detail(language),
                }
            )
    return {"between": between_context(patient), "care_notes": notes}


@login_required
def summary_pdf(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The CSV summary's content as a PDF for the doctor (same data, same date range)."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    from ivig.web.pdf import pdf_response

    patient = access.get_patient_for_user(request.user, patient_id)
    start = _date_param(request.GET.get("from"))
    end = _date_param(request.GET.get("to"))
    history = records.patient_history(patient, start, end)
    rows = [
        {
            "item": item,
            "checkins": records.answered_checkins(item.infusion),
        }
        for item in history
    ]
    # every plan of these infusions that a prescriber approved despite an error finding, with
    # the findings and reasons (issue 8: overrides are on every printout that shows a plan)
    approvals = {item.infusion.approval_id: item.infusion.approval for item in history}
    overridden = [approval for approval in approvals.values() if approval.error_overrides]
    context = {
        "patient": patient,
        "rows": rows,
        "overridden": overridden,
        "brands": records.brand_records(history),
        "start": start,
        "end": end,
        "printed_at": timezone.localtime(),
        "printed_by": request.user,
        "chart": mark_safe(_summary_chart_svg(history)),
        **_summary_family(patient),
    }
    html = render_to_string("infusions/summary_pdf.html", context, request=request)
    return pdf_response(html, f"ivig-summary-{patient.pk}-{start or 'all'}-{end or 'now'}.pdf")
