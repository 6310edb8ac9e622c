"""API, token and CDS Hooks URLs (mounted at the site root: CDS Hooks fixes /cds-services)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from ivig.web.api import cds_views, token_views
from ivig.web.api.v1 import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("teams/<int:team_id>/api-tokens/", token_views.tokens, name="api_tokens"),
    path(
        "teams/<int:team_id>/api-tokens/<int:token_id>/revoke/",
        token_views.revoke,
        name="api_token_revoke",
    ),
    path("cds-services", cds_views.discovery, name="cds_discovery"),
    path("cds-services/plan/<str:token>/", cds_views.plan, name="cds_plan"),
    path("cds-services/<str:service_id>", cds_views.service, name="cds_service"),
]
