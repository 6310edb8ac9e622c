"""Plans in the admin: to look at, never to write.

An approved plan version and its approval are the record of what a prescriber saw and signed:
the admin cannot add, change or delete either (a superuser once rewrote an approved dose and
forged an approval, issue 10). Plan versions are written by the plan form, approvals only by the
approval flow; the models refuse any other change (``ApprovedRecordError``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ivig.web.admin_base import ClinicalAdmin
from ivig.web.plans.models import Approval, PlanVersion


class ReadOnlyAdmin(ClinicalAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "patient", "kind", "author", "created_at", "archived_at")
    list_filter = ("kind",)
    raw_id_fields = ("patient", "author", "supersedes")


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ("plan_version", "approved_by", "approved_at", "catalogue_version", "language")
    raw_id_fields = ("plan_version", "approved_by")
