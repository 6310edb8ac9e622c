"""JSON API v1 (django-ninja): thin routes over the same forms, access helper, approval gate
and core as the pages. OpenAPI document at /api/v1/openapi.json (docs/api.md).

Every error is ``{"errors": [{"field", "given", "accepted", "problem"}]}`` with the HTTP status
that says what kind of error it is (400 bad input, 401 no valid token, 403 not allowed, 404 not
found or not yours, 409 refused by a safety gate, 422 malformed request).
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import ConfigDict

from ivig.core.order import OrderError, Problem
from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web import access
from ivig.web.access import Action
from ivig.web.api.models import ApiToken, hash_key
from ivig.web.patients.models import Measurement, MeasurementKind, Patient
from ivig.web.plans.models import Approval, PlanKind, PlanVersion

# --- Errors ---------------------------------------------------------------------------------------


class ErrorItem(Schema):
    field: str
    given: Any = None
    accepted: str
    problem: str


class ErrorOut(Schema):
    errors: list[ErrorItem]


class ApiProblem(Exception):
    def __init__(self, status: int, problems: list[dict[str, Any]]) -> None:
        self.status = status
        self.problems = problems
        super().__init__(str(problems))


def problem(field: str, given: Any, accepted: str, text: str) -> dict[str, Any]:
    return {"field": field, "given": _jsonable(given), "accepted": accepted, "problem": text}


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


def from_problems(problems: tuple[Problem, ...] | list[Problem]) -> list[dict[str, Any]]:
    return [problem(p.field, p.given, p.accepted, p.problem) for p in problems]


ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


def responses(ok: Any, status: int = 200, **extra: Any) -> dict[int, Any]:
    out = dict(ERRORS)
    out[status] = ok
    for code, schema in extra.items():
        out[int(code.removeprefix("s"))] = schema
    return out


# --- Authentication -------------------------------------------------------------------------------


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("user", "team").filter(key_hash=hash_key(token)).first()
        )
        if found is None or not found.is_active or not found.user.is_active:
            return None
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.api_token = found  # type: ignore[attr-defined]
        request.user = found.user
        return found


api = NinjaAPI(
    title="IVIG planner API",
    version="1",
    description=(
        "Computes and checks plans a clinician prescribed; it never invents a dose or a rate. "
        "Authenticate with `Authorization: Bearer <token>` (tokens are made on the care team "
        "page). Errors: `{errors: [{field, given, accepted, problem}]}`."
    ),
    urls_namespace="api_v1",
    auth=TokenAuth(),
    docs_url=None,  # the Swagger page loads from a CDN and inline scripts: not served
    openapi_url="/openapi.json",
)


def _known_query_parameters_only(run: Any) -> Any:
    """Refuse a query parameter the operation does not take (400, naming it), as the OpenAPI
    document says (a misspelt ``?langauge=es`` would otherwise be ignored in silence). Applied
    to every operation's ``run`` (``Operation.run``, before its authentication and validation),
    so its query parameters are known once, from the operation's own parameter models."""
    operation = getattr(run, "__self__", None)
    known: set[str] = set()
    for model in getattr(operation, "models", ()):
        if getattr(model, "__ninja_param_source__", None) == "query":
            known.update(field.alias or name for name, field in model.model_fields.items())

    @functools.wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        unknown = sorted(set(request.GET) - known)
        if unknown:
            accepted = ", ".join(sorted(known)) or "no query parameters"
            return api.create_response(
                request,
                {
                    "errors": [
                        problem(name, request.GET.get(name), accepted, "unknown query parameter")
                        for name in unknown
                    ]
                },
                status=400,
            )
        return run(request, *args, **kwargs)

    return checked


api.add_decorator(_known_query_parameters_only, mode="view")


@api.exception_handler(ApiProblem)
def _api_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return api.create_response(request, {"errors": exc.problems}, status=exc.status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request,
        {
            "errors": [
                problem(
                    "Authorization",
                    "(missing, expired, revoked or unknown token)",
                    "Authorization: Bearer <token from the care team page>",
                    "no valid API token",
                )
            ]
        },
        status=401,
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    items = []
    for err in exc.errors:
        loc = [str(x) for x in err.get("loc", []) if x not in ("body", "payload", "query", "path")]
        items.append(
            problem(
                ".".join(loc) or "body",
                err.get("input", None) if not isinstance(err.get("input"), dict) else "(object)",
                str(err.get("type", "a valid value")).replace("_", " "),
                str(err.get("msg", "invalid")),
            )
        )
    return api.create_response(request, {"errors": items}, status=422)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request,
        {"errors": [problem("path", request.path, "an id you may see", str(exc) or "not found")]},
        status=404,
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request,
        {"errors": [problem("path", request.path, "an action your role allows", str(exc))]},
        status=403,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(
        request,
        {"errors": [problem("request", request.method, "see the API documentation", str(exc))]},
        status=exc.status_code,
    )


def token_of(request: HttpRequest) -> ApiToken:
    token = getattr(request, "api_token", None)
    assert isinstance(token, ApiToken)
    return token


def need(request: HttpRequest, scope: str) -> ApiToken:
    token = token_of(request)
    if scope not in token.scopes:
        raise ApiProblem(
            403,
            [
                problem(
                    "Authorization",
                    token.scopes,
                    f"a token with the {scope!r} scope",
                    "this token's scopes do not allow this",
                )
            ],
        )
    return token


def patient_for(
    request: HttpRequest, patient_id: int, action: Action = Action.VIEW, scope: str | None = None
) -> Patient:
    """The patient through the access helper, and only in the token's own care team."""
    token = need(request, scope or ("read" if action == Action.VIEW else "write"))
    patient = access.get_patient_for_user(token.user, patient_id, action=action)
    if patient.team_id != token.team_id:
        raise Http404("No such patient")
    return patient


def form_problems(form: Any, data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        choices = [str(c[0]) for c in getattr(field, "choices", []) or []]
        if choices:
            accepted = "one of: " + ", ".join(choices)
        elif field is not None:
            accepted = str(field.help_text or field.label)
        else:
            accepted = "see the API documentation (docs/api.md)"
        for error in errors:
            out.append(
                problem(name if name != "__all__" else "body", data.get(name), accepted, str(error))
            )
    return out


class StrictIn(Schema):
    """Request bodies are read strictly: "3" is not a number and "yes" is not true, so what the
    OpenAPI document says is exactly what is accepted."""

    model_config = ConfigDict(strict=True)


# --- Patients and measurements --------------------------------------------------------------------


class MeasurementOut(Schema):
    id: int
    kind: str
    value: str
    taken_at: datetime


class PatientOut(Schema):
    id: int
    team: int
    name: str
    birth_date: date
    sex: str
    blood_group: str
    conditions: list[str]
    archived: bool
    latest_weight: MeasurementOut | None = None
    latest_height: MeasurementOut | None = None


class PatientIn(StrictIn):
    name: str
    birth_date: str
    sex: str = "unknown"
    blood_group: str = "unknown"
    conditions: list[str] = []
    weight: str = ""
    height: str = ""


class MeasurementIn(StrictIn):
    kind: str
    value: str
    taken_at: str


def measurement_out(m: Measurement | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"id": m.pk, "kind": m.kind, "value": m.text, "taken_at": m.taken_at}


def patient_out(p: Patient) -> dict[str, Any]:
    return {
        "id": p.pk,
        "team": p.team_id,
        "name": p.name,
        "birth_date": p.birth_date,
        "sex": p.sex,
        "blood_group": p.blood_group,
        "conditions": list(p.conditions or []),
        "archived": p.archived_at is not None,
        "latest_weight": measurement_out(p.latest_weight()),
        "latest_height": measurement_out(p.latest_height()),
    }


@api.get("/patients", response=responses(list[PatientOut]), tags=["patients"])
def list_patients(request: HttpRequest) -> Any:
    token = need(request, "read")
    patients = access.patients_for(token.user).filter(team_id=token.team_id)
    return [patient_out(p) for p in patients[:500]]


@api.post("/patients", response=responses(PatientOut, 201), tags=["patients"])
def create_patient(request: HttpRequest, payload: PatientIn) -> Any:
    from ivig.web.patients.forms import NewPatientForm

    token = need(request, "write")
    teams = access.teams_for(token.user, Action.ADD_PATIENT).filter(pk=token.team_id)
    if not teams.exists():
        raise PermissionDenied("Only a care team's caregiver can add a patient")
    data = {**payload.dict(), "team": str(token.team_id)}
    form = NewPatientForm(data, teams=teams)
    if not form.is_valid():
        raise ApiProblem(400, form_problems(form, data))
    with transaction.atomic():
        patient = form.save(commit=False)
        patient.created_by = token.user
        patient.save()
        for measurement in form.measurements(patient, token.user):
            measurement.save()
    return Status(201, patient_out(patient))


@api.get("/patients/{patient_id}", response=responses(PatientOut), tags=["patients"])
def get_patient(request: HttpRequest, patient_id: int) -> Any:
    return patient_out(patient_for(request, patient_id))


@api.get(
    "/patients/{patient_id}/measurements",
    response=responses(list[MeasurementOut]),
    tags=["patients"],
)
def list_measurements(request: HttpRequest, patient_id: int) -> Any:
    patient = patient_for(request, patient_id)
    return [measurement_out(m) for m in patient.measurements.filter(archived_at__isnull=True)]


@api.post(
    "/patients/{patient_id}/measurements",
    response=responses(MeasurementOut, 201),
    tags=["patients"],
)
def add_measurement(request: HttpRequest, patient_id: int, payload: MeasurementIn) -> Any:
    from ivig.web.patients.forms import MeasurementForm

    patient = patient_for(request, patient_id, Action.RECORD_MEASUREMENT)
    if payload.kind not in MeasurementKind.values:
        raise ApiProblem(400, [problem("kind", payload.kind, "weight or height", "unknown kind")])
    data = {"value": payload.value, "taken_at": payload.taken_at}
    form = MeasurementForm(data, kind=MeasurementKind(payload.kind))
    if not form.is_valid():
        raise ApiProblem(400, form_problems(form, data))
    measurement = form.build(patient, token_of(request).user)
    measurement.save()
    return Status(201, measurement_out(measurement))


# --- Plans ----------------------------------------------------------------------------------------


class PlanIn(StrictIn):
    kind: str = "prescribed"
    label: str = ""
    order: dict[str, Any]
    first_infusion: bool | None = None  # None: not known (the first-infusion advice applies)
    previous_product: str = ""
    supersedes: int | None = None


class ApprovalOut(Schema):
    id: int
    approved_by: str
    approved_at: datetime
    catalogue_version: str
    error_overrides: list[dict[str, Any]]


class PlanOut(Schema):
    id: int
    patient: int
    kind: str
    label: str
    created_at: datetime
    supersedes: int | None
    archived: bool
    order_document: dict[str, Any]
    approvals: list[ApprovalOut]
    plan: dict[str, Any] | None
    problems: list[ErrorItem]


class ApproveIn(StrictIn):
    overrides: dict[str, str] = {}
    expected_digest: str | None = None
    language: str = "en"


def _language(value: str) -> str:
    if value not in ("en", "es"):
        raise ApiProblem(400, [problem("language", value, "en or es", "unknown language")])
    return value


def approval_out(a: Approval) -> dict[str, Any]:
    return {
        "id": a.pk,
        "approved_by": str(getattr(a.approved_by, "name", "") or a.approved_by),
        "approved_at": a.approved_at,
        "catalogue_version": a.catalogue_version,
        "error_overrides": a.error_overrides,
    }


def plan_out(version: PlanVersion, language: str = "en") -> dict[str, Any]:
    plan_dict = None
    problems: list[dict[str, Any]] = []
    try:
        plan_dict = plan_to_dict(
            build_plan(version.order_document, today=timezone.localdate()), language
        )
    except OrderError as exc:
        problems = from_problems(exc.problems)
    return {
        "id": version.pk,
        "patient": version.patient_id,
        "kind": version.kind,
        "label": version.label,
        "created_at": version.created_at,
        "supersedes": version.supersedes_id,
        "archived": version.archived_at is not None,
        "order_document": version.order_document,
        "approvals": [approval_out(a) for a in version.approvals.all()],
        "plan": json.loads(json.dumps(plan_dict, default=str)) if plan_dict else None,
        "problems": problems,
    }


def _version(patient: Patient, version_id: int) -> PlanVersion:
    version: PlanVersion | None = PlanVersion.objects.filter(patient=patient, pk=version_id).first()
    if version is None:
        raise Http404("No such plan version")
    return version


def save_plan(
    request: HttpRequest, patient: Patient, document: dict[str, Any], payload: PlanIn
) -> PlanVersion:
    """Validate with the core (every problem reported) and store a new version."""
    if payload.kind not in PlanKind.values:
        raise ApiProblem(
            400, [problem("kind", payload.kind, ", ".join(PlanKind.values), "unknown kind")]
        )
    supersedes = None
    if payload.supersedes is not None:
        supersedes = patient.plan_versions.filter(pk=payload.supersedes).first()
        if supersedes is None:
            raise ApiProblem(
                400,
                [
                    problem(
                        "supersedes",
                        payload.supersedes,
                        "a plan version id of this patient",
                        "not found",
                    )
                ],
            )
    try:
        build_plan(document, today=timezone.localdate())
    except OrderError as exc:
        raise ApiProblem(400, from_problems(exc.problems)) from exc
    return PlanVersion.objects.create(
        patient=patient,
        kind=payload.kind,
        label=payload.label.strip()[:200],
        order_document=document,
        author=token_of(request).user,
        supersedes=supersedes,
    )


@api.get("/patients/{patient_id}/plans", response=responses(list[PlanOut]), tags=["plans"])
def list_plans(request: HttpRequest, patient_id: int, language: str = "en") -> Any:
    patient = patient_for(request, patient_id)
    lang = _language(language)
    return [plan_out(v, lang) for v in patient.plan_versions.all()[:100]]


@api.post("/patients/{patient_id}/plans", response=responses(PlanOut, 201), tags=["plans"])
def create_plan(request: HttpRequest, patient_id: int, payload: PlanIn) -> Any:
    """A new plan version. The ``[patient]`` table comes from the patient's record (latest
    weight and height as entered), exactly as on the plan page; ``order`` is the ``[order]``."""
    from ivig.web.plans.forms import patient_document

    patient = patient_for(request, patient_id, Action.EDIT_PLANS)
    document = {
        "patient": patient_document(
            patient,
            first_infusion=payload.first_infusion,
            previous_product=payload.previous_product,
        ),
        "order": payload.order,
    }
    return Status(201, plan_out(save_plan(request, patient, document, payload)))


@api.get("/patients/{patient_id}/plans/{version_id}", response=responses(PlanOut), tags=["plans"])
def get_plan(request: HttpRequest, patient_id: int, version_id: int, language: str = "en") -> Any:
    patient = patient_for(request, patient_id)
    return plan_out(_version(patient, version_id), _language(language))


@api.post(
    "/patients/{patient_id}/plans/{version_id}/approve",
    response=responses(ApprovalOut, 201, s409=ErrorOut),
    tags=["plans"],
)
def approve_plan(request: HttpRequest, patient_id: int, version_id: int, payload: ApproveIn) -> Any:
    """The same approval gate as the plan page (ivig.web.plans.approval.approve): a plan with
    error findings needs, for each error code, a reason in ``overrides``."""
    from ivig.web.plans.approval import ApprovalRefused, approve

    token = need(request, "approve")
    patient = patient_for(request, patient_id, Action.APPROVE_PLANS, scope="approve")
    version = _version(patient, version_id)
    try:
        approval = approve(
            version,
            token.user,
            payload.overrides,
            language=_language(payload.language),
            expected_digest=payload.expected_digest,
        )
    except ApprovalRefused as exc:
        items = [
            problem(
                f"overrides.{e['code']}",
                payload.overrides.get(e["code"]),
                "the reason this error is approved anyway (free text)",
                e["message"],
            )
            for e in exc.errors
        ] or [problem("plan", version.pk, "a plan version that can be approved", exc.message)]
        raise ApiProblem(409, [{**i, "code": exc.code} for i in items]) from exc
    return Status(201, approval_out(approval))


class CompareOut(Schema):
    comparison: dict[str, Any]


@api.get("/patients/{patient_id}/compare", response=responses(CompareOut), tags=["plans"])
def compare_plans(
    request: HttpRequest, patient_id: int, first: int, second: int, language: str = "en"
) -> Any:
    from ivig.core.compare import compare
    from ivig.render.compare_json import comparison_to_dict

    patient = patient_for(request, patient_id)
    lang = _language(language)
    plans = []
    for name, version_id in (("first", first), ("second", second)):
        version = patient.plan_versions.filter(pk=version_id).first()
        if version is None:
            raise ApiProblem(
                404, [problem(name, version_id, "a plan version id of this patient", "not found")]
            )
        try:
            plans.append(build_plan(version.order_document, today=timezone.localdate()))
        except OrderError as exc:
            raise ApiProblem(400, from_problems(exc.problems)) from exc
    result = comparison_to_dict(compare(plans[0], plans[1]), lang)
    return {"comparison": json.loads(json.dumps(result, default=str))}


# --- Compute only ---------------------------------------------------------------------------------


class ComputeIn(StrictIn):
    document: dict[str, Any]
    language: str = "en"
    today: str | None = None


def _date_or_today(value: str | None) -> date:
    if value is None:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ApiProblem(
            400, [problem("today", value, "a date written as YYYY-MM-DD", "not a date")]
        ) from exc


@api.post("/compute", response=responses(dict[str, Any]), tags=["plans"])
def compute(request: HttpRequest, payload: ComputeIn) -> Any:
    """The plan JSON for an order document (the same as ``ivig plan --format json``). Stores
    nothing."""
    need(request, "read")
    lang = _language(payload.language)
    try:
        plan = build_plan(payload.document, today=_date_or_today(payload.today))
    except OrderError as exc:
        raise ApiProblem(400, from_problems(exc.problems)) from exc
    return json.loads(json.dumps(plan_to_dict(plan, lang), default=str))


# --- FHIR -----------------------------------------------------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class FhirImportIn(StrictIn):
    resource: Any
    kind: str = "prescribed"
    label: str = ""


@api.post("/patients/{patient_id}/fhir/import", response=responses(PlanOut, 201), tags=["fhir"])
def fhir_import(request: HttpRequest, patient_id: int, payload: FhirImportIn) -> Any:
    """A draft plan version from a FHIR MedicationRequest + weight Observation (a Bundle, a
    list, or the resources). The weight and height are the ones the order was written for;
    name, birth date and sex come from the patient's record, and the record's conditions are
    added to the ones the EHR sent (a condition known here is never dropped)."""
    from ivig.interop.fhir_import import FhirImportError, import_order

    patient = patient_for(request, patient_id, Action.EDIT_PLANS)
    try:
        document = import_order(payload.resource, tz=_tz())
    except FhirImportError as exc:
        raise ApiProblem(400, from_problems(exc.problems)) from exc
    record = {"name": patient.name, "birth_date": patient.birth_date.isoformat()}
    if patient.sex in ("female", "male"):
        record["sex"] = patient.sex
    imported = document["patient"]
    document["patient"] = {
        **{k: v for k, v in imported.items() if k not in ("name", "birth_date", "sex", "age")},
        **record,
        "conditions": sorted(set(imported.get("conditions") or []) | set(patient.conditions)),
    }
    if "blood_group" not in imported and patient.blood_group:
        document["patient"]["blood_group"] = patient.blood_group
    version = save_plan(
        request, patient, document, PlanIn(kind=payload.kind, label=payload.label, order={})
    )
    return Status(201, plan_out(version))


@api.get("/patients/{patient_id}/fhir", response=responses(dict[str, Any]), tags=["fhir"])
def fhir_export(request: HttpRequest, patient_id: int) -> Any:
    """Everything about the patient as a FHIR R4 Bundle (validated against the R4B models)."""
    from ivig.web.api.fhir_records import patient_bundle

    patient = patient_for(request, patient_id)
    base = request.build_absolute_uri("/api/v1/fhir").rstrip("/")
    return json.loads(json.dumps(patient_bundle(patient, base_url=base, tz=_tz()), default=str))


# --- Infusion log, check-ins, hydration ---------------------------------------------------------


class EventOut(Schema):
    id: int
    at: datetime
    kind: str
    data: dict[str, Any]
    corrects: int | None
    withdrawn: bool


class InfusionOut(Schema):
    id: int
    approval: int
    day: int
    started_at: datetime
    ended_at: datetime | None
    events: list[EventOut]


class InfusionIn(StrictIn):
    approval: int
    day: int
    started_at: str


class RateIn(StrictIn):
    at: str
    rate: str
    reason: str = ""


class EventIn(StrictIn):
    fields: dict[str, Any]


class CheckInAnswerOut(Schema):
    id: int
    answered_at: datetime
    level: str
    report: dict[str, Any]
    triage: dict[str, Any]


class TeamContactsOut(Schema):
    """Who the family calls (issue 11): shown with every triage result. Empty = not entered."""

    team: str
    phone_day: str
    phone_after_hours: str
    emergency_number: str


class CheckInOut(Schema):
    id: int
    infusion: int
    due_at: datetime
    label: str
    answers: list[CheckInAnswerOut]
    contacts: TeamContactsOut


class CheckInAnswerIn(StrictIn):
    symptoms: list[str] = []
    temperature: str = ""
    headache: int = 0
    free_text: str = ""
    language: str = "en"


class DrinkOut(Schema):
    id: int
    at: datetime
    volume: str
    volume_ml: str


class DrinkIn(StrictIn):
    at: str
    volume: str
    confirm: bool = False


def infusion_out(infusion: Any) -> dict[str, Any]:
    events = list(infusion.events.order_by("at", "pk"))
    corrected = {e.corrects_id for e in events if e.corrects_id}
    return {
        "id": infusion.pk,
        "approval": infusion.approval_id,
        "day": infusion.day,
        "started_at": infusion.started_at,
        "ended_at": infusion.ended_at,
        "events": [
            {
                "id": e.pk,
                "at": e.at,
                "kind": e.kind,
                "data": json.loads(json.dumps(e.data, default=str)),
                "corrects": e.corrects_id,
                "withdrawn": e.pk in corrected,
            }
            for e in events
        ],
    }


def _infusion_of(patient: Patient, infusion_id: int) -> Any:
    from ivig.web.infusions.models import Infusion

    infusion = Infusion.objects.filter(pk=infusion_id, patient=patient).first()
    if infusion is None:
        raise Http404("No such infusion")
    return infusion


@api.get(
    "/patients/{patient_id}/infusions", response=responses(list[InfusionOut]), tags=["infusions"]
)
def list_infusions(request: HttpRequest, patient_id: int) -> Any:
    patient = patient_for(request, patient_id)
    return [infusion_out(i) for i in patient.infusions.order_by("-started_at", "-pk")[:100]]


@api.post(
    "/patients/{patient_id}/infusions",
    response=responses(InfusionOut, 201, s409=ErrorOut),
    tags=["infusions"],
)
def start_infusion(request: HttpRequest, patient_id: int, payload: InfusionIn) -> Any:
    """Start a day of an approved plan, with the page's rules: only an approved plan, one
    running infusion per patient, a day of the plan not given before."""
    from django.db import IntegrityError

    from ivig.core import infusion_day
    from ivig.web.infusions import forms
    from ivig.web.infusions.models import Infusion
    from ivig.web.infusions.views import _approvals, _start_refusal
    from ivig.web.plans.approval import start_choices

    patient = patient_for(request, patient_id, Action.RECORD_MEASUREMENT)
    approvals = _approvals(patient)
    data = payload.dict()
    form = forms.StartForm(data, choices=start_choices(approvals)[0])
    if not form.is_valid():
        raise ApiProblem(400, form_problems(form, data))
    approval = next((a for a in approvals if a.pk == form.cleaned_data["approval"]), None)
    if approval is None:
        raise ApiProblem(
            400,
            [
                problem(
                    "approval", payload.approval, "an approval of this patient's plans", "not found"
                )
            ],
        )
    day = form.cleaned_data["day"]
    refusal = _start_refusal(patient, approval, day)
    if refusal is None:
        try:
            with transaction.atomic():
                infusion = Infusion.objects.create(
                    approval=approval,
                    patient=patient,
                    day=day,
                    started_at=form.cleaned_data["started_at"],
                    planned_date=infusion_day.planned_date(approval.snapshot, day),
                    started_by=token_of(request).user,
                )
        except IntegrityError:
            refusal = _start_refusal(patient, approval, day) or "another infusion is running"
    if refusal is not None:
        raise ApiProblem(
            409, [problem("day", day, "a day of the plan that can start now", str(refusal))]
        )
    return Status(201, infusion_out(infusion))


@api.get(
    "/patients/{patient_id}/infusions/{infusion_id}",
    response=responses(InfusionOut),
    tags=["infusions"],
)
def get_infusion(request: HttpRequest, patient_id: int, infusion_id: int) -> Any:
    return infusion_out(_infusion_of(patient_for(request, patient_id), infusion_id))


@api.post(
    "/patients/{patient_id}/infusions/{infusion_id}/rate",
    response=responses(EventOut, 201, s409=ErrorOut),
    tags=["infusions"],
)
def change_rate(request: HttpRequest, patient_id: int, infusion_id: int, payload: RateIn) -> Any:
    """A rate change, checked against the approved plan like on the page: a rate above the
    plan, the advice or the label is refused unless ``reason`` says why."""
    from ivig.core import units
    from ivig.core.checks import fmt
    from ivig.core.infusion_checks import check_rate
    from ivig.web.infusions import forms, records
    from ivig.web.infusions.models import EventKind

    patient = patient_for(request, patient_id, Action.RECORD_MEASUREMENT)
    infusion = _infusion_of(patient, infusion_id)
    data = payload.dict()
    form = forms.RateForm(data)
    if not form.is_valid():
        raise ApiProblem(400, form_problems(form, data))
    try:
        minute = records.minutes_since_start(infusion, form.cleaned_data["at"])
        result = check_rate(infusion.snapshot, infusion.day, minute, form.cleaned_data["rate"])
    except units.QuantityError as exc:
        raise ApiProblem(400, [problem("rate", exc.given, exc.accepted, exc.problem)]) from exc
    reason = form.cleaned_data.get("reason", "").strip()
    if result.reason_required and not reason:
        raise ApiProblem(
            409,
            [
                problem(
                    "reason",
                    "",
                    "why this rate is used (free text)",
                    "; ".join(w.message("en") for w in result.warnings),
                )
            ],
        )
    planned = result.planned
    event = records.record(
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
                {"code": w.code, "message": w.message("en"), "source": w.source}
                for w in result.warnings
            ],
            "reason": reason,
        },
        token_of(request).user,
    )
    return Status(201, next(e for e in infusion_out(infusion)["events"] if e["id"] == event.pk))


@api.post(
    "/patients/{patient_id}/infusions/{infusion_id}/events/{kind}",
    response=responses(EventOut, 201),
    tags=["infusions"],
)
def add_event(
    request: HttpRequest, patient_id: int, infusion_id: int, kind: str, payload: EventIn
) -> Any:
    """Pause, resume, stop, vitals, symptom, premedication, fluid or vial: the page's form
    fields (e.g. vials: at, brand, lot_number, expiry), with the same checks (an expired vial
    is refused, symptoms are triaged)."""
    from ivig.web.infusions import records
    from ivig.web.infusions.models import EventKind
    from ivig.web.infusions.views import EVENT_FORMS, _event_data

    patient = patient_for(request, patient_id, Action.RECORD_MEASUREMENT)
    infusion = _infusion_of(patient, infusion_id)
    if kind not in EVENT_FORMS:
        raise ApiProblem(
            404, [problem("kind", kind, ", ".join(sorted(EVENT_FORMS)), "no such kind of entry")]
        )
    fields = {k: v for k, v in payload.fields.items() if isinstance(k, str)}
    form = EVENT_FORMS[kind]({f"{kind}-{k}": v for k, v in fields.items()}, prefix=kind)
    data = _event_data(kind, form, patient, infusion) if form.is_valid() else None
    if data is None:
        raise ApiProblem(400, form_problems(form, fields))
    at = form.cleaned_data["at"]
    with transaction.atomic():
        event = records.record(
            infusion, kind, at, json.loads(json.dumps(data, default=str)), token_of(request).user
        )
        if kind == EventKind.STOP:
            records.end_infusion(infusion, at)
    out = next(e for e in infusion_out(infusion)["events"] if e["id"] == event.pk)
    return Status(201, out)


def checkin_out(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "infusion": c.infusion_id,
        "due_at": c.due_at,
        "label": c.label,
        "answers": [
            {
                "id": a.pk,
                "answered_at": a.answered_at,
                "level": a.level,
                "report": json.loads(json.dumps(a.report or {}, default=str)),
                "triage": json.loads(json.dumps(a.triage or {}, default=str)),
            }
            for a in c.answer_list()
        ],
        "contacts": {
            "team": c.patient.team.name,
            "phone_day": c.patient.team.phone_day,
            "phone_after_hours": c.patient.team.phone_after_hours,
            "emergency_number": c.patient.team.emergency_number,
        },
    }


@api.get(
    "/patients/{patient_id}/checkins", response=responses(list[CheckInOut]), tags=["infusions"]
)
def list_checkins(request: HttpRequest, patient_id: int) -> Any:
    patient = patient_for(request, patient_id)
    items = (
        patient.checkins.select_related("patient__team")
        .prefetch_related("answers")
        .order_by("due_at", "pk")[:200]
    )
    return [checkin_out(c) for c in items]


@api.post(
    "/patients/{patient_id}/checkins/{checkin_id}/answers",
    response=responses(CheckInOut, 201),
    tags=["infusions"],
)
def answer_checkin(
    request: HttpRequest, patient_id: int, checkin_id: int, payload: CheckInAnswerIn
) -> Any:
    """Answer a check-in (each answer is kept; a later one never replaces an earlier one). The
    answer is triaged by the core with the same rules as the page."""
    from decimal import Decimal

    from ivig.core.infusion_checks import symptom_words
    from ivig.core.triage import TriageInputError
    from ivig.web.infusions import forms, records

    patient = patient_for(request, patient_id, Action.RECORD_MEASUREMENT)
    item = patient.checkins.select_related("infusion").filter(pk=checkin_id).first()
    if item is None:
        raise Http404("No such check-in")
    language = _language(payload.language)
    data = {
        "symptoms": payload.symptoms,
        "temperature": payload.temperature,
        "headache": str(payload.headache),
        "free_text": payload.free_text,
    }
    form = forms.CheckInForm(data)
    if not form.is_valid():
        raise ApiProblem(400, form_problems(form, data))
    ended = item.infusion.ended_at or item.infusion.started_at
    hours = max(Decimal(0), Decimal(str((timezone.now() - ended).total_seconds())) / 3600)
    report: dict[str, Any] = {
        "symptoms": form.cleaned_data["symptoms"],
        "headache_score": form.cleaned_data["headache"],
        "hours_since_infusion_end": float(min(hours, Decimal(8000)).quantize(Decimal("0.1"))),
    }
    if form.cleaned_data["temperature"]:
        report["temperature"] = form.cleaned_data["temperature"]
    if form.cleaned_data["free_text"].strip():
        report["free_text"] = form.cleaned_data["free_text"].strip()
    try:
        result = records.run_triage(patient, item.infusion.snapshot, report, language)
    except TriageInputError as exc:
        raise ApiProblem(400, from_problems(exc.problems)) from exc
    kept = {**report, "symptom_words": [w for _n, w in symptom_words(report["symptoms"], language)]}
    records.answer_checkin(item, token_of(request).user, kept, result)
    return Status(201, checkin_out(item))


def drink_out(d: Any) -> dict[str, Any]:
    return {"id": d.pk, "at": d.at, "volume": d.volume, "volume_ml": str(d.volume_ml)}


@api.get("/patients/{patient_id}/hydration", response=responses(list[DrinkOut]), tags=["infusions"])
def list_drinks(request: HttpRequest, patient_id: int) -> Any:
    patient = patient_for(request, patient_id)
    return [drink_out(d) for d in patient.hydration.filter(archived_at__isnull=True)[:500]]


@api.post("/patients/{patient_id}/hydration", response=responses(DrinkOut, 201), tags=["infusions"])
def add_drink(request: HttpRequest, patient_id: int, payload: DrinkIn) -> Any:
    """A drink, with the page's rules: one parser for mL, L, oz and cups; a drink in the future
    is refused; a single drink above the bound needs ``confirm``."""
    from ivig.core import infusion_day
    from ivig.core.checks import fmt
    from ivig.web.infusions import forms
    from ivig.web.infusions.models import HydrationEntry
    from ivig.web.infusions.views import _drink_ml, _weight_kg

    patient = patient_for(request, patient_id, Action.RECORD_MEASUREMENT)
    data = {"at": payload.at, "volume": payload.volume, "confirm": payload.confirm}
    form = forms.HydrationForm(data)
    volume_ml = _drink_ml(form) if form.is_valid() else None
    if volume_ml is None:
        raise ApiProblem(400, form_problems(form, data))
    bound = infusion_day.single_entry_bound_ml(_weight_kg(patient))
    if volume_ml > bound.bound_ml and not payload.confirm:
        raise ApiProblem(
            409,
            [
                problem(
                    "volume",
                    payload.volume,
                    "the amount checked, then the same request with confirm: true",
                    f"{fmt(volume_ml, 0)} mL in one drink is more than "
                    f"{fmt(bound.bound_ml, 0)} mL ({bound.words('en')}; a design choice)",
                )
            ],
        )
    entry = HydrationEntry.objects.create(
        patient=patient,
        at=form.cleaned_data["at"],
        volume=form.cleaned_data["volume"].strip(),
        volume_ml=volume_ml,
        recorded_by=token_of(request).user,
    )
    entry.refresh_from_db()  # the stored value (mL to one decimal), as a later GET shows it
    return Status(201, drink_out(entry))
