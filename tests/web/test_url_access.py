"""Every URL pattern, tried as an anonymous visitor and as a member of another care team.

The patterns are enumerated from the resolver, so a new view is covered the day it is added.
Path parameters are filled with the ids of team A's objects, and each URL gets a GET and an
empty POST. An anonymous visitor is sent to a login page or refused. The stranger is refused
(403/404) on every URL that names one of team A's objects; pages without parameters show the
stranger their own things. No response may show team A's data and no request may change the
database. A new parameter name makes this test fail until ``Values`` below knows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

# Pages anyone may open (their empty POST must still change nothing and show no patient data).
PUBLIC = {
    "accounts:setup",
    "accounts:login",
    "accounts:logout",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invite",
    "plans:blank_chart",  # the blank family chart: no patient data (issue 11)
    "set_language",
    "healthz",
    "favicon",
    "static",
    "admin:login",
    "admin:logout",
    # CDS Hooks: the EHR calls these without a user session; they return only cards computed
    # from the order the request itself carries (docs/fhir.md).
    "cds_discovery",
    "cds_service",
    # The OpenAPI document and its viewer describe the API; they hold no data.
    "api_v1:openapi-json",
    "api_v1:openapi-view",
    "api_v1:api-root",
}
LOGIN_PREFIXES = ("/accounts/login/", "/admin/login/")
# Bookkeeping that a visit may legitimately write: sessions and login-attempt logs.
NOT_WATCHED = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog",
               "api.apitoken"}  # an API token's last_used_at


@dataclass
class Route:
    url: str
    name: str  # namespaced url name, or "" for unnamed patterns
    template: str


def _balanced_group(text: str, start: int) -> int:
    """Index just past the group that opens at text[start] == "("."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "\\":
            continue
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError(f"unbalanced regex: {text}")


def _fill_regex(regex: str, value: Any) -> str:
    regex = regex.lstrip("^").removesuffix("\\Z").removesuffix("$")
    out, index, positional = [], 0, iter(["object_id", "history_id"])
    while index < len(regex):
        char = regex[index]
        if char == "(":
            end = _balanced_group(regex, index)
            named = re.match(r"\(\?P<(\w+)>", regex[index:])
            out.append(str(value(named.group(1) if named else next(positional))))
            index = end
        elif char == "\\":
            out.append(regex[index + 1])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _fill(pattern: Any, value: Any) -> str:
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(value(m.group(1))), pattern._route)
    assert isinstance(pattern, RegexPattern), pattern
    return _fill_regex(pattern._regex, value)


def routes(values: Any) -> Iterator[Route]:
    def walk(resolver: URLResolver, prefix: str, namespace: str, template: str) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            text = template + str(entry.pattern)
            admin_model = re.match(r"admin/(\w+)/(\w+)/", text)
            model = f"{admin_model.group(1)}.{admin_model.group(2)}" if admin_model else ""

            def value(param: str, text: str = text, model: str = model) -> Any:
                return values(param, text, model)

            part = _fill(entry.pattern, value)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry, prefix + part, ns, text)
            else:
                assert isinstance(entry, URLPattern)
                name = f"{namespace}{entry.name}" if entry.name else ""
                yield Route(url="/" + prefix + part, name=name, template=text)

    yield from walk(get_resolver(), "", "", "")


class Values:
    """Path parameters filled with team A's objects."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.by_model = {
            "accounts.user": world.caregiver.pk,
            "accounts.careteam": world.team_a.pk,
            "accounts.membership": world.nurse.memberships.get().pk,
            "accounts.invite": world.invite.pk,
            "patients.patient": world.patient.pk,
            "patients.measurement": world.weight.pk,
            "plans.planversion": world.plan.pk,
            "plans.approval": world.approval.pk,
        }
        # Team A's infusion records (the infusions app), so outsiders are tried on real rows.
        from ivig.web.infusions.models import CheckIn, Infusion, InfusionEvent

        now = world.approval.approved_at
        self.infusion = Infusion.objects.create(
            approval=world.approval, patient=world.patient, day=1, started_at=now,
            started_by=world.nurse,
        )
        self.event = InfusionEvent.objects.create(
            infusion=self.infusion, at=now, kind="note", data={}, recorded_by=world.nurse
        )
        self.checkin = CheckIn.objects.create(
            infusion=self.infusion, patient=world.patient, due_at=now, hours_after_end=72,
            label="+72 h",
        )
        from ivig.web.api.models import ApiToken

        self.api_token = ApiToken.issue(
            team=world.team_a, user=world.caregiver, name="EHR", scopes=["read"], days=1
        )[0]

    def __call__(self, param: str, template: str, model: str) -> Any:
        w = self.world
        if param in ("object_id", "id") and model:
            return self.by_model.get(model, 1)
        if param == "history_id" and model:
            history = apps.get_model(model).history  # type: ignore[attr-defined]
            return history.filter(id=self.by_model[model]).first().history_id
        simple = {
            "patient_id": w.patient.pk,
            "measurement_id": w.weight.pk,
            "team_id": w.team_a.pk,
            "membership_id": w.nurse.memberships.get().pk,
            "invite_id": w.invite.pk,
            "plan_id": w.plan.pk,
            "plan_version_id": w.plan.pk,
            "version_id": w.plan.pk,
            "approval_id": w.approval.pk,
            "infusion_id": self.infusion.pk,
            "event_id": self.event.pk,
            "checkin_id": self.checkin.pk,
            "token_id": self.api_token.pk,
            "kind": "vitals",
            "service_id": "ivig-order-sign",
            "app_label": "patients",
            "url": "patients/nothing-here/",
            "path": "ivig/site.css",
            "content_type_id": ContentType.objects.get_for_model(type(w.patient)).pk,
            "object_id": w.patient.pk,
            "uidb64": urlsafe_base64_encode(force_bytes(w.caregiver.pk)),
        }
        if param in simple:
            return simple[param]
        if param == "token":
            if "reset" in template:
                return default_token_generator.make_token(w.caregiver)
            # An invitation link is a bearer secret: holding it is being invited. A stranger
            # guessing one is what we test here.
            return "not-a-real-invitation-token"
        raise AssertionError(f"no test value for URL parameter {param!r} in {template!r}")


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every watched table (last_login excepted)."""
    state = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in NOT_WATCHED:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "last_login"]
        state[label] = sorted(model.objects.values_list(*fields), key=repr)
    return state


@pytest.fixture(autouse=True)
def _between_courses_records(request: Any) -> None:
    """Team A's IgG trough and infection (issue 11): a stranger must never see them."""
    if "world" not in request.fixturenames:
        return
    from datetime import date

    from ivig.web.patients.models import Infection, LabResult

    world = request.getfixturevalue("world")
    LabResult.objects.create(
        patient=world.patient, test="igg_trough", value="6.789", unit="g/L",
        taken_on=date(2026, 10, 1), recorded_by=world.nurse,
    )
    Infection.objects.create(
        patient=world.patient, started_on=date(2026, 10, 5), kind="Secret-otitis",
        antibiotics="amoxicillin", days_missed=2, recorded_by=world.nurse,
    )


def secrets_of(world: Any) -> list[str]:
    return [
        world.patient.name,
        "23.456",  # team A's weight
        world.nurse.email,
        world.viewer.email,
        "6.789",  # team A's IgG trough (issue 11)
        "Secret-otitis",  # team A's infection (issue 11)
    ]


def _check(route: Route, who: str, response: Any, world: Any) -> None:
    status = response.status_code
    body = b"".join(response) if response.streaming else response.content
    for secret in secrets_of(world):
        assert secret.encode() not in body, f"{who} saw {secret!r} at {route.url}"
    if route.name in PUBLIC:
        return
    location = response.get("Location", "")
    if who in ("stranger", "stranger_token") and not re.search(r"<|\(", route.template):
        return  # a page about the stranger's own things (their patient list, their teams)
    if route.url.startswith("/api/v1/") and who != "stranger_token":
        # The JSON API knows only tokens: a login session is not enough (405: a method the
        # route does not have, refused before anything is looked up).
        ok = status in (401, 405)
    elif who == "anonymous":
        ok = status in (401, 403, 404) or (
            status == 302 and location.startswith(LOGIN_PREFIXES)
        )
    elif who == "stranger_token":
        # 400/422: the empty body is refused before the patient is looked up, the same answer
        # for any id (nothing about team A is revealed; nothing changes, checked below).
        ok = status in (400, 403, 404, 405, 422)
    else:
        ok = status in (403, 404) or (
            route.template.startswith("admin/")
            and status == 302
            and location.startswith("/admin/login/")
        )
    assert ok, f"{who} got {status} {location} at {route.url} ({route.name or route.template})"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "stranger", "stranger_token"])
def test_no_url_lets_an_outsider_read_or_change_team_a(world, who):
    from ivig.web.api.models import ApiToken

    values = Values(world)
    all_routes = list(routes(values))
    assert len(all_routes) > 50
    headers = {}
    if who == "stranger_token":  # the stranger's own API token, every scope, in their team
        key = ApiToken.issue(team=world.team_b, user=world.stranger, name="x",
                             scopes=["read", "write", "approve"], days=1)[1]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        all_routes = [r for r in all_routes if r.url.startswith("/api/v1/")]
        assert len(all_routes) > 15
    for route in all_routes:
        assert resolve(route.url.split("?")[0]), route
        for method in ("get", "post"):
            client = Client()
            if who == "stranger":
                client.force_login(world.stranger)
            before = snapshot()
            response = getattr(client, method)(route.url, **headers)
            _check(route, who, response, world)
            assert snapshot() == before, f"{who} {method.upper()} {route.url} changed the database"


@pytest.mark.django_db
def test_the_enumeration_covers_our_pages(world):
    names = {route.name for route in routes(Values(world))}
    for expected in ("patients:detail", "patients:history", "accounts:team", "admin:index"):
        assert expected in names
