"""Admin rules shared by clinical models: full history, no deletion (archive instead)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin


class ClinicalAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    """Clinical records are archived, never deleted: the admin offers no delete."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
