"""Plan pages (added with the plan form). Mounted at /patients/ by ivig.web.urls, so routes here
look like ``<int:patient_id>/plans/new/``; every view must go through ``ivig.web.access``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "plans"

urlpatterns: list[URLPattern | URLResolver] = []
