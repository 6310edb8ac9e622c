"""CDS Hooks URLs (mounted at the site root: the specification fixes /cds-services)."""

from __future__ import annotations

from django.urls import URLPattern, path

from ivig.web.api import cds_views

urlpatterns: list[URLPattern] = [
    path("cds-services", cds_views.discovery, name="cds_discovery"),
    path("cds-services/plan/<str:token>/", cds_views.plan, name="cds_plan"),
    path("cds-services/<str:service_id>", cds_views.service, name="cds_service"),
]
