from __future__ import annotations

from django.contrib import admin

from ivig.web.admin_base import ClinicalAdmin
from ivig.web.patients.models import Measurement, Patient


@admin.register(Patient)
class PatientAdmin(ClinicalAdmin):
    list_display = ("name", "birth_date", "team", "archived_at")
    search_fields = ("name",)
    raw_id_fields = ("team", "created_by")


@admin.register(Measurement)
class MeasurementAdmin(ClinicalAdmin):
    list_display = ("patient", "kind", "value", "unit", "taken_at", "archived_at")
    list_filter = ("kind",)
    raw_id_fields = ("patient", "recorded_by")
