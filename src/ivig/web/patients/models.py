"""Patients and their weight and height history.

A patient belongs to one care team. Measurements keep the value and unit exactly as they were
entered (e.g. 44 lb); conversion happens in ``ivig.core.units`` when a number is needed.
Nothing is deleted: a record is archived, and every change is kept by django-simple-history.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ivig.core import units
from ivig.core.vocabulary import CONDITIONS
from ivig.web.accounts.models import ActiveQuerySet, CareTeam


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Not recorded")


class BloodGroup(models.TextChoices):
    O_POS = "O+", "O+"
    O_NEG = "O-", "O−"
    A_POS = "A+", "A+"
    A_NEG = "A-", "A−"
    B_POS = "B+", "B+"
    B_NEG = "B-", "B−"
    AB_POS = "AB+", "AB+"
    AB_NEG = "AB-", "AB−"
    UNKNOWN = "unknown", _("Not known")


def condition_words(code: str, language: str | None = None) -> str:
    """Plain words for a condition code in the active language (the code if unknown)."""
    words = CONDITIONS.get(code)
    if words is None:
        return code
    language = language or get_language() or "en"
    return words[1] if language.startswith("es") else words[0]


class Patient(models.Model):
    team = models.ForeignKey(
        CareTeam, on_delete=models.PROTECT, related_name="patients", verbose_name=_("care team")
    )
    name = models.CharField(_("name"), max_length=200)
    birth_date = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    blood_group = models.CharField(
        _("blood group"), max_length=8, choices=BloodGroup.choices, default=BloodGroup.UNKNOWN
    )
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def condition_list(self) -> list[str]:
        """The patient's conditions in plain words, in the active language."""
        return [condition_words(code) for code in self.conditions]

    def latest(self, kind: str) -> Measurement | None:
        """The newest active measurement of this kind (by time taken, then id), or None: one
        hand-written statement through the (patient, kind, taken) index (most pages ask;
        ``ivig.web.sql``), the same row as
        ``measurements.filter(kind=…, archived_at__isnull=True).order_by("-taken_at", "-pk")``
        (tests/web/test_patients.py)."""
        from ivig.web import sql

        fields, columns = sql.columns(Measurement, "m")
        q = sql.quote
        rows = sql.sql_rows(
            f"SELECT {columns} FROM {q(Measurement._meta.db_table)} m "
            f"WHERE m.{q('patient_id')} = %s AND m.{q('kind')} = %s "
            f"AND m.{q('archived_at')} IS NULL "
            f"ORDER BY m.{q('taken_at')} DESC, m.{q('id')} DESC LIMIT 1",
            [self.pk, kind],
            fields,
        )
        return sql.instance(Measurement, fields, rows[0]) if rows else None

    def latest_weight(self) -> Measurement | None:
        return self.latest(MeasurementKind.WEIGHT)

    def latest_height(self) -> Measurement | None:
        return self.latest(MeasurementKind.HEIGHT)

    def weight_is_stale(self, now: Any = None) -> bool:
        """True when there is no weight, or the latest is older than the local policy allows."""
        return weight_is_stale(self.latest_weight(), now)


def weight_is_stale(weight: Measurement | None, now: Any = None) -> bool:
    """True when ``weight`` (a patient's latest) is missing or older than the policy allows."""
    if weight is None:
        return True
    now = now or timezone.now()
    return bool(now - weight.taken_at > timedelta(days=settings.WEIGHT_MAX_AGE_DAYS))


class MeasurementKind(models.TextChoices):
    WEIGHT = "weight", _("Weight")
    HEIGHT = "height", _("Height")


MEASUREMENT_UNIT_KIND = {
    MeasurementKind.WEIGHT: units.Kind.MASS,
    MeasurementKind.HEIGHT: units.Kind.LENGTH,
}


class Measurement(models.Model):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="measurements", verbose_name=_("patient")
    )
    kind = models.CharField(_("measurement"), max_length=10, choices=MeasurementKind.choices)
    value = models.DecimalField(_("value"), max_digits=9, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20)
    taken_at = models.DateTimeField(_("measured on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["-taken_at", "-pk"]
        # the latest weight or height of a patient is read on most pages (issue 10: pages stay
        # fast as records grow)
        indexes = [
            models.Index(
                fields=["patient", "kind", "-taken_at"], name="measurement_latest_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"

    @property
    def text(self) -> str:
        """The value with its unit, as entered (without trailing zeros), e.g. "44 lb"."""
        return f"{format_decimal(self.value)} {self.unit}"

    def quantity(self) -> units.Quantity:
        """The measurement parsed by the core (raises QuantityError if the record is bad)."""
        return units.parse(self.text, self.kind, MEASUREMENT_UNIT_KIND[MeasurementKind(self.kind)])


def format_decimal(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class LabTest(models.TextChoices):
    IGG_TROUGH = "igg_trough", _("IgG trough level (before an infusion)")


class LabResult(models.Model):
    """A laboratory result between courses, as entered (value and unit); converted for display
    and charts by ivig.core.units. Corrections archive the entry (history kept)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="lab_results", verbose_name=_("patient")
    )
    test = models.CharField(_("test"), max_length=20, choices=LabTest.choices)
    value = models.DecimalField(_("value"), max_digits=9, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20)
    taken_on = models.DateField(_("date of the sample"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("lab result")
        verbose_name_plural = _("lab results")
        ordering = ["-taken_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_test_display()}: {self.text} ({self.taken_on})"

    @property
    def text(self) -> str:
        return f"{format_decimal(self.value)} {self.unit}"

    @property
    def g_per_l(self) -> Decimal:
        return units.grams_per_litre(units.parse(self.text, "lab result", units.Kind.IGG_LEVEL))


class Infection(models.Model):
    """An infection between courses: date, type, antibiotics, days of school or work missed."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="infections", verbose_name=_("patient")
    )
    started_on = models.DateField(_("date it started"))
    kind = models.CharField(_("type of infection"), max_length=120)
    antibiotics = models.CharField(_("antibiotics"), max_length=200, blank=True)
    days_missed = models.PositiveSmallIntegerField(_("days of school or work missed"), default=0)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("infection")
        verbose_name_plural = _("infections")
        ordering = ["-started_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.started_on})"
