from __future__ import annotations

from django.contrib import admin

from ivig.web.admin_base import ClinicalAdmin
from ivig.web.plans.models import Approval, PlanVersion


@admin.register(PlanVersion)
class PlanVersionAdmin(ClinicalAdmin):
    list_display = ("__str__", "patient", "kind", "author", "created_at", "archived_at")
    list_filter = ("kind",)
    raw_id_fields = ("patient", "author", "supersedes")


@admin.register(Approval)
class ApprovalAdmin(ClinicalAdmin):
    list_display = ("plan_version", "approved_by", "approved_at", "catalogue_version", "language")
    raw_id_fields = ("plan_version", "approved_by")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # an approval records what was shown; it is never edited
