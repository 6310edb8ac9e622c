"""The authorization matrix: every URL x every persona, both directions, expected status, no
state change on refusal (issue 10).

Personas: anonymous; the caregiver, nurse, prescriber and viewer of team A; the same four roles of
team B; a member removed from team A (membership archived); a deactivated member of team A
(``is_active=False``, who cannot log in). Every URL from the resolver is filled once with team A's
objects and once with team B's, and each is sent a GET and an empty POST by every persona. The
expected answer comes from ``EXPECTED`` below:

- a member whose role allows the rule's action: anything but 401/403/404, a login redirect or a
  5xx (the page, a redirect, 400 for an empty form, 405 for the wrong method);
- a member whose role does not allow it: 403 (405 for the wrong method);
- anyone outside the owning team (the other team, the removed member): 404, never the data
  (405 for the wrong method);
- anonymous and deactivated: a redirect to a login page (or 401/403/404/405).

Refused requests must not change the database (a fingerprint of every table, sessions and
login-attempt logs excepted), and no refused answer may show the owning team's patient name.
Every HTML page that is shown must carry the Content-Security-Policy and no inline script or style.

**Adding a URL** (an API route, a CDS Hooks endpoint, a new page): add one line to ``EXPECTED``
with its URL name (``namespace:name``; shell-style wildcards such as ``"api-1:*"`` cover a whole
namespace) and a pair ``(rule for GET, rule for POST)``. A rule is an ``Action`` of
``ivig.web.access`` (the role matrix decides who may), ``PUBLIC`` (anyone: no check but "no 5xx and
no leak"), ``LOGGED_IN`` (any logged-in user; the page shows only their own things), ``STAFF``
(the admin site: everyone here is sent to the admin login) or ``BEARER`` (a link whose token is the
permission: an invitation, a reset link). A URL without an entry fails
``test_every_url_has_an_entry``. New path parameters are filled by ``Objects.value`` below.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.access import ROLE_ACTIONS, Action
from ivig.web.accounts.models import Invite, Membership, Role
from ivig.web.headers import CONTENT_SECURITY_POLICY
from ivig.web.plans.models import Approval, PlanKind, PlanVersion
from tests.core import builders
from tests.web.conftest import make_measurement, make_member, make_patient, make_team
from tests.web.test_headers import inline_code
from tests.web.test_url_access import routes

PUBLIC, LOGGED_IN, STAFF, BEARER, TOKEN = "public", "logged_in", "staff", "bearer", "token"
Rule = str | frozenset[str]


def roles(*names: str) -> frozenset[str]:
    """A rule naming the roles allowed, for a view that no single Action describes."""
    return frozenset(names)

V, M, P = Action.VIEW, Action.RECORD_MEASUREMENT, Action.EDIT_PLANS

EXPECTED: dict[str, tuple[Rule, Rule]] = {
    # site
    "home": (PUBLIC, PUBLIC),
    "favicon": (PUBLIC, PUBLIC),
    "healthz": (PUBLIC, PUBLIC),
    "static": (PUBLIC, PUBLIC),
    "set_language": (PUBLIC, PUBLIC),
    "admin:login": (PUBLIC, PUBLIC),
    "admin:logout": (PUBLIC, PUBLIC),
    "admin:*": (STAFF, STAFF),
    # accounts
    "accounts:setup": (PUBLIC, PUBLIC),
    "accounts:login": (PUBLIC, PUBLIC),
    "accounts:logout": (PUBLIC, PUBLIC),
    "accounts:password_reset": (PUBLIC, PUBLIC),
    "accounts:password_reset_done": (PUBLIC, PUBLIC),
    "accounts:password_reset_confirm": (BEARER, BEARER),
    "accounts:password_reset_complete": (PUBLIC, PUBLIC),
    "accounts:invite": (BEARER, BEARER),
    "accounts:teams": (LOGGED_IN, LOGGED_IN),
    "accounts:team_create": (LOGGED_IN, LOGGED_IN),
    "accounts:team": (V, V),
    "accounts:invite_create": (Action.MANAGE_TEAM, Action.MANAGE_TEAM),
    "accounts:team_contacts": (Action.MANAGE_TEAM, Action.MANAGE_TEAM),
    "accounts:price_create": (Action.MANAGE_TEAM, Action.MANAGE_TEAM),
    "accounts:invite_cancel": (Action.MANAGE_TEAM, Action.MANAGE_TEAM),
    "accounts:member_role": (Action.MANAGE_TEAM, Action.MANAGE_TEAM),
    "accounts:member_remove": (Action.MANAGE_TEAM, Action.MANAGE_TEAM),
    # patients
    "patients:list": (LOGGED_IN, LOGGED_IN),
    "patients:create": (Action.ADD_PATIENT, Action.ADD_PATIENT),  # in the user's own team
    "patients:detail": (V, V),
    "patients:edit": (Action.EDIT_PROFILE, Action.EDIT_PROFILE),
    "patients:archive": (Action.ARCHIVE_PATIENT, Action.ARCHIVE_PATIENT),
    "patients:history": (V, V),
    "patients:measurement_create": (M, M),
    "patients:measurement_archive": (M, M),
    # plans
    "plans:blank_chart": (PUBLIC, PUBLIC),  # the family's blank paper chart, no patient data
    "plans:list": (V, V),
    "plans:create": (P, P),
    "plans:new_course": (P, P),
    "plans:preview": (P, P),
    "plans:compare": (V, V),
    "plans:detail": (V, V),
    "plans:edit": (P, P),
    # the version filled in is approved: only a prescriber archives it (with a reason)
    "plans:archive": (Action.APPROVE_PLANS, Action.APPROVE_PLANS),
    "plans:approve": (Action.APPROVE_PLANS, Action.APPROVE_PLANS),
    "plans:print": (V, V),
    "plans:pdf": (V, V),
    "plans:about": (V, V),
    # infusions (recording anything needs record_measurement: everyone but a viewer)
    "infusions:list": (V, V),
    "infusions:start": (M, M),
    "infusions:summary_csv": (V, V),
    "infusions:summary_pdf": (V, V),
    "infusions:detail": (V, V),
    "infusions:going_home": (V, V),
    "infusions:timeline": (V, V),
    "infusions:rate_check": (M, M),
    "infusions:rate": (M, M),
    "infusions:event": (M, M),
    "infusions:correct": (M, M),
    "infusions:checkin": (V, M),
    "infusions:calendar": (V, V),
    "infusions:calendar_ics": (V, V),
    "infusions:hydration": (V, M),
    "infusions:fluid_limit": (Action.EDIT_PROFILE, Action.EDIT_PROFILE),
    # ui
    "ui:lot_search": (LOGGED_IN, LOGGED_IN),
    "ui:compare_print": (V, V),
    # CDS Hooks: the EHR calls these without a session; they answer only from the request's own
    # order (docs/fhir.md); the plan link's token is the permission.
    "cds_discovery": (PUBLIC, PUBLIC),
    "cds_service": (PUBLIC, PUBLIC),
    "cds_plan": (BEARER, BEARER),
    # JSON API: tokens only; a login session is refused (the token matrix: test_url_access.py)
    "api_v1:openapi-json": (PUBLIC, PUBLIC),
    "api_v1:openapi-view": (PUBLIC, PUBLIC),
    "api_v1:api-root": (PUBLIC, PUBLIC),
    "api_v1:*": (TOKEN, TOKEN),
    "api_tokens": (roles("caregiver", "prescriber"), roles("caregiver", "prescriber")),
    # the token filled in is the caregiver's: a prescriber may revoke only their own
    "api_token_revoke": (Action.MANAGE_TEAM, Action.MANAGE_TEAM),
    "patients:between": (V, M),
}

PERSONAS = (
    "anonymous",
    "a_caregiver", "a_nurse", "a_prescriber", "a_viewer",
    "b_caregiver", "b_nurse", "b_prescriber", "b_viewer",
    "a_removed", "a_deactivated",
)
LOGIN_PREFIXES = ("/accounts/login/", "/admin/login/")
NOT_WATCHED = {"sessions.session", "axes.accessattempt", "axes.accesslog",
               "axes.accessfailurelog", "accounts.throttleevent"}


def rule_for(name: str, template: str) -> tuple[Rule, Rule] | None:
    if name in EXPECTED:
        return EXPECTED[name]
    for pattern, rule in EXPECTED.items():
        if "*" in pattern and fnmatch.fnmatchcase(name or template, pattern):
            return rule
    if template.startswith("admin/"):
        return EXPECTED["admin:*"]
    return None


@dataclass
class Team:
    label: str
    team: Any
    users: dict[str, Any]
    patient: Any
    objects: dict[str, Any]


def _team(label: str) -> Team:
    from ivig.web.infusions.models import CheckIn, Infusion, InfusionEvent

    team = make_team(f"Team {label.upper()}")
    users = {
        role: make_member(team, role, email=f"{label}-{role}@example.org", name=f"{label} {role}")
        for role in ("caregiver", "nurse", "prescriber", "viewer")
    }
    patient = make_patient(team, users["caregiver"], name=f"Secret Child {label.upper()}")
    weight = make_measurement(patient, users["nurse"], value="23.456", unit="kg")
    document = builders.document()
    plan = PlanVersion.objects.create(
        patient=patient, kind=PlanKind.PRESCRIBED, label="Course", order_document=document,
        author=users["prescriber"],
    )
    computed = build_plan(document, today=timezone.localdate())
    approval = Approval.objects.create(
        plan_version=plan, snapshot=plan_to_dict(computed),
        catalogue_version=computed.catalogue.version, approved_by=users["prescriber"],
        language="en",
    )
    invite, _token = Invite.create(team=team, role=Role.NURSE, created_by=users["caregiver"])
    now = timezone.now()
    infusion = Infusion.objects.create(
        approval=approval, patient=patient, day=1, started_at=now, started_by=users["nurse"]
    )
    event = InfusionEvent.objects.create(
        infusion=infusion, at=now, kind="note", data={}, recorded_by=users["nurse"]
    )
    checkin = CheckIn.objects.create(
        infusion=infusion, patient=patient, due_at=now, hours_after_end=72, label="+72 h"
    )
    from ivig.web.api.models import ApiToken

    api_token = ApiToken.issue(
        team=team, user=users["caregiver"], name="EHR", scopes=["read"], days=1
    )[0]
    objects = {
        "token_id": api_token.pk,
        "patient_id": patient.pk, "measurement_id": weight.pk, "team_id": team.pk,
        "membership_id": users["nurse"].memberships.get().pk, "invite_id": invite.pk,
        "plan_id": plan.pk, "plan_version_id": plan.pk, "version_id": plan.pk,
        "approval_id": approval.pk, "infusion_id": infusion.pk, "event_id": event.pk,
        "checkin_id": checkin.pk,
    }
    return Team(label, team, users, patient, objects)


class Objects:
    """Path parameters filled with one team's objects (the owner of the URL)."""

    def __init__(self, owner: Team) -> None:
        self.owner = owner

    def value(self, param: str, template: str, model: str) -> Any:
        o = self.owner
        if param in o.objects:
            return o.objects[param]
        if param in ("object_id", "id") and model:
            by_model = {"accounts.user": o.users["caregiver"].pk,
                        "accounts.careteam": o.team.pk, "patients.patient": o.patient.pk,
                        "plans.planversion": o.objects["plan_id"],
                        "plans.approval": o.objects["approval_id"]}
            return by_model.get(model, 1)
        if param == "history_id" and model:
            history = apps.get_model(model).history  # type: ignore[attr-defined]
            row = history.first()
            return row.history_id if row else 1
        simple = {
            "kind": "vitals", "service_id": "ivig-order-sign", "app_label": "patients",
            "url": "patients/nothing-here/", "path": "ivig/site.css",
            "content_type_id": ContentType.objects.get_for_model(type(o.patient)).pk,
            "object_id": o.patient.pk,
            "uidb64": urlsafe_base64_encode(force_bytes(o.users["caregiver"].pk)),
        }
        if param in simple:
            return simple[param]
        if param == "token":
            if "reset" in template:
                return default_token_generator.make_token(o.users["caregiver"])
            return "not-a-real-token"
        raise AssertionError(f"no value for URL parameter {param!r} in {template!r}: "
                             "add it to Objects.value")


def fingerprint() -> dict[str, Any]:
    """What a request could change, cheaply: the row count of every watched table, and the
    rows themselves of the tables without a history (a change to a clinical record always
    adds a history row, so its count moves)."""
    out: dict[str, Any] = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in NOT_WATCHED:
            continue
        if hasattr(model, "history") or label.split(".")[1].startswith("historical"):
            out[label] = model.objects.count()
        else:
            fields = [f.attname for f in model._meta.concrete_fields if f.name != "last_login"]
            out[label] = list(model.objects.order_by("pk").values_list(*fields))
    return out


def _client(persona: str, a: Team, b: Team, removed: Any, deactivated: Any) -> Client:
    client = Client()
    if persona == "anonymous":
        return client
    if persona == "a_removed":
        client.force_login(removed)
    elif persona == "a_deactivated":
        client.force_login(deactivated)
    else:
        team = a if persona.startswith("a_") else b
        client.force_login(team.users[persona[2:]])
    return client


def expected_kind(rule: Rule, persona: str, owner: str, object_url: bool) -> str:
    """'allowed', 'role' (403), 'outsider' (404), 'login' or 'any'.

    On a URL that names no object (e.g. /patients/new/) an action is judged by the persona's
    role in their own team."""
    if rule in (PUBLIC, BEARER):
        return "any"
    if persona in ("anonymous", "a_deactivated"):
        return "login"
    if rule in (STAFF, TOKEN):
        return "login"
    if rule == LOGGED_IN:
        return "allowed"
    if persona == "a_removed":
        return "outsider" if object_url else "role"
    if object_url and persona[0] != owner:
        return "outsider"
    role = Role(persona[2:])
    if isinstance(rule, frozenset):
        return "allowed" if role in rule else "role"
    return "allowed" if Action(rule) in ROLE_ACTIONS[role] else "role"


def check(kind: str, response: Any, where: str) -> None:
    status, location = response.status_code, response.get("Location", "")
    assert status < 500, where
    if kind == "allowed":
        assert status not in (401, 403, 404) and not location.startswith(LOGIN_PREFIXES), where
    elif kind == "role":
        assert status in (403, 405), where
    elif kind == "outsider":
        assert status in (404, 405), where
    elif kind == "login":
        assert status in (401, 403, 404, 405) or (
            status == 302 and location.startswith(LOGIN_PREFIXES)
        ), where


@pytest.fixture
def matrix(db: None) -> tuple[Team, Team, Any, Any]:
    a, b = _team("a"), _team("b")
    removed = make_member(a.team, "nurse", email="a-removed@example.org")
    Membership.objects.filter(user=removed).update(archived_at=timezone.now())
    deactivated = make_member(a.team, "nurse", email="a-deactivated@example.org")
    deactivated.is_active = False
    deactivated.save()
    return a, b, removed, deactivated


def test_every_url_has_an_entry(matrix):
    a = matrix[0]
    missing = sorted(
        {r.name or r.template for r in routes(Objects(a).value) if rule_for(r.name, r.template)
         is None}
    )
    assert missing == [], "add these URL names to EXPECTED (see the module docstring)"


@pytest.mark.parametrize("owner", ["a", "b"])
def test_every_url_for_every_persona(matrix, owner):
    a, b, removed, deactivated = matrix
    team = a if owner == "a" else b
    all_routes = list(routes(Objects(team).value))
    assert len(all_routes) > 50
    clients = {p: _client(p, a, b, removed, deactivated) for p in PERSONAS}
    for route in all_routes:
        rule = rule_for(route.name, route.template)
        assert rule is not None, route
        object_url = bool(re.search(r"<|\(", route.template))
        for method, method_rule in zip(("get", "post"), rule, strict=True):
            for persona in PERSONAS:
                kind = expected_kind(method_rule, persona, owner, object_url)
                before = fingerprint() if kind != "allowed" and method == "post" else None
                # Each request runs in a savepoint that is rolled back: what an allowed
                # persona's empty POST does (archive, remove a member) must not change the
                # world the next persona meets.
                with transaction.atomic():
                    response = getattr(clients[persona], method)(route.url)
                    after = fingerprint() if before is not None else None
                    transaction.set_rollback(True)
                if route.name == "accounts:logout":  # log the persona back in
                    clients[persona] = _client(persona, a, b, removed, deactivated)
                where = f"{persona} {method.upper()} {route.url} ({route.name}): " + (
                    f"{response.status_code} {response.get('Location', '')}"
                )
                check(kind, response, where)
                if kind in ("role", "outsider", "login"):
                    body = b"".join(response) if response.streaming else response.content
                    assert team.patient.name.encode() not in body, where
                if before is not None and kind != "any":
                    assert after == before, "state changed: " + where
                if (
                    response.status_code == 200
                    and "text/html" in response.get("Content-Type", "")
                    and not response.streaming
                ):
                    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, where
                    assert inline_code(response.content.decode("utf-8", "replace")) == [], where
