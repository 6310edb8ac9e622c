"""A demo care team: four people (one per role) and a patient with weight and height history.

Passwords are new random ones on every load (printed once), so a demo never leaves a
well-known password behind. Loading twice updates the same demo records.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ivig.web.accounts.models import CareTeam, Membership, Role, User
from ivig.web.patients.models import BloodGroup, Measurement, MeasurementKind, Patient, Sex

DEMO_TEAM = "Demo care team"
DEMO_PEOPLE = [
    ("caregiver@demo.invalid", "Carmen (parent)", Role.CAREGIVER),
    ("nurse@demo.invalid", "Nuria (nurse)", Role.NURSE),
    ("prescriber@demo.invalid", "Dr Pablo (prescriber)", Role.PRESCRIBER),
    ("viewer@demo.invalid", "Victor (grandparent)", Role.VIEWER),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str


@transaction.atomic
def load_demo() -> list[DemoLogin]:
    team, _ = CareTeam.objects.get_or_create(name=DEMO_TEAM, defaults={})
    logins = []
    users = {}
    for email, name, role in DEMO_PEOPLE:
        password = secrets.token_urlsafe(9)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, password, name=name)
        else:
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
        Membership.objects.update_or_create(
            user=user, team=team, defaults={"role": role, "archived_at": None}
        )
        users[role] = user
        logins.append(DemoLogin(email=email, password=password, role=str(role.label)))
    caregiver = users[Role.CAREGIVER]
    patient, created = Patient.objects.get_or_create(
        team=team,
        name="Lucía Demo",
        defaults={
            "birth_date": date(2017, 3, 14),
            "sex": Sex.FEMALE,
            "blood_group": BloodGroup.A_POS,
            "conditions": ["immunodeficiency", "migraine"],
            "created_by": caregiver,
        },
    )
    if created:
        now = timezone.now()
        history = [
            (MeasurementKind.WEIGHT, "19.6", "kg", 120),
            (MeasurementKind.HEIGHT, "112", "cm", 120),
            (MeasurementKind.WEIGHT, "44.5", "lb", 75),
            (MeasurementKind.WEIGHT, "20.4", "kg", 40),
            (MeasurementKind.HEIGHT, "115", "cm", 40),
        ]
        for kind, value, unit, days_ago in history:
            Measurement.objects.create(
                patient=patient,
                kind=kind,
                value=Decimal(value),
                unit=unit,
                taken_at=now - timedelta(days=days_ago),
                recorded_by=users[Role.NURSE],
            )
    return logins
