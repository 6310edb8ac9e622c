"""Fixtures for the web tests: personas built by small functions, never JSON blobs.

Team A has a caregiver, a nurse, a prescriber and a viewer, and a patient with a weight, a
plan version and an approval. A stranger is the caregiver of team B (with a patient of its own).
Log people in with ``client.force_login(user)``: ``client.login()`` would go through django-axes,
which needs the request.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ivig.web.accounts.models import CareTeam, Invite, Membership, Role, User
from ivig.web.patients.models import Measurement, MeasurementKind, Patient
from ivig.web.plans.models import Approval, PlanKind, PlanVersion

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "nopostgres: only meaningful on SQLite; not run in the PostgreSQL pass"
    )


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """Argon2 is right for people and slow for tests: MD5 here, only here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_from_the_apps(settings: Any) -> None:
    """Plain static names found in the apps, as in a development checkout: the hashed,
    compressed files need ``collectstatic`` (seconds), which ``ivig serve`` runs and
    tests/web/test_serve.py checks for real."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- builders --------------------------------------------------------------------------------


def make_user(email: str | None = None, name: str = "", password: str = PASSWORD) -> User:
    number = next(_counter)
    return User.objects.create_user(
        email or f"person{number}@example.org", password, name=name or f"Person {number}"
    )


def make_team(name: str = "") -> CareTeam:
    return CareTeam.objects.create(name=name or f"Team {next(_counter)}")


def make_member(team: CareTeam, role: str, email: str | None = None, name: str = "") -> User:
    user = make_user(email, name=name)
    Membership.objects.create(user=user, team=team, role=role)
    return user


def make_caregiver(team: CareTeam, **kw: Any) -> User:
    return make_member(team, Role.CAREGIVER, **kw)


def make_nurse(team: CareTeam, **kw: Any) -> User:
    return make_member(team, Role.NURSE, **kw)


def make_prescriber(team: CareTeam, **kw: Any) -> User:
    return make_member(team, Role.PRESCRIBER, **kw)


def make_viewer(team: CareTeam, **kw: Any) -> User:
    return make_member(team, Role.VIEWER, **kw)


def make_patient(team: CareTeam, created_by: User, name: str = "", **kw: Any) -> Patient:
    fields: dict[str, Any] = {
        "birth_date": date(2016, 5, 1),
        "sex": "female",
        "blood_group": "A+",
        "conditions": ["immunodeficiency"],
    }
    fields.update(kw)
    return Patient.objects.create(
        team=team, name=name or f"Patient {next(_counter)}", created_by=created_by, **fields
    )


def make_measurement(
    patient: Patient,
    recorded_by: User,
    kind: str = MeasurementKind.WEIGHT,
    value: str = "20.4",
    unit: str = "kg",
    days_ago: float = 1,
) -> Measurement:
    return Measurement.objects.create(
        patient=patient,
        kind=kind,
        value=Decimal(value),
        unit=unit,
        taken_at=timezone.now() - timedelta(days=days_ago),
        recorded_by=recorded_by,
    )


def make_plan(patient: Patient, author: User, label: str = "") -> PlanVersion:
    return PlanVersion.objects.create(
        patient=patient,
        kind=PlanKind.PRESCRIBED,
        label=label or "Monthly course",
        order_document={"order": {"dose": "0.4 g/kg"}},
        author=author,
    )


def make_approval(plan: PlanVersion, approved_by: User) -> Approval:
    return Approval.objects.create(
        plan_version=plan,
        snapshot={"shown": "plan"},
        catalogue_version="test-1",
        approved_by=approved_by,
        language="en",
    )


@dataclass
class World:
    team_a: CareTeam
    caregiver: User
    nurse: User
    prescriber: User
    viewer: User
    patient: Patient
    weight: Measurement
    plan: PlanVersion
    approval: Approval
    invite: Invite
    invite_token: str
    team_b: CareTeam
    stranger: User
    stranger_patient: Patient

    def persona(self, role: str) -> User:
        return {
            "caregiver": self.caregiver,
            "nurse": self.nurse,
            "prescriber": self.prescriber,
            "viewer": self.viewer,
            "stranger": self.stranger,
        }[role]


def build_world() -> World:
    team_a = make_team("Alvarez family")
    caregiver = make_caregiver(team_a, email="carmen@example.org", name="Carmen")
    nurse = make_nurse(team_a, email="nuria@example.org", name="Nuria")
    prescriber = make_prescriber(team_a, email="pablo@example.org", name="Dr Pablo")
    viewer = make_viewer(team_a, email="victor@example.org", name="Victor")
    patient = make_patient(team_a, caregiver, name="Lucia Alvarez")
    weight = make_measurement(patient, nurse, value="23.456", unit="kg")
    plan = make_plan(patient, prescriber)
    approval = make_approval(plan, prescriber)
    invite, token = Invite.create(team=team_a, role=Role.NURSE, created_by=caregiver)
    team_b = make_team("Other family")
    stranger = make_caregiver(team_b, email="stranger@example.org", name="Stranger")
    stranger_patient = make_patient(team_b, stranger, name="Other Child")
    return World(
        team_a=team_a,
        caregiver=caregiver,
        nurse=nurse,
        prescriber=prescriber,
        viewer=viewer,
        patient=patient,
        weight=weight,
        plan=plan,
        approval=approval,
        invite=invite,
        invite_token=token,
        team_b=team_b,
        stranger=stranger,
        stranger_patient=stranger_patient,
    )


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def build(db: None) -> Any:
    """The builder functions of this module: ``build.make_patient(team, user)``."""
    import sys

    return sys.modules[__name__]
