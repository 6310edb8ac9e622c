"""URL map (docs/web.md lists it). Patient data is only reached through ``ivig.web.access``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from ivig.web import views
from ivig.web.ui import views as ui_views

admin.site.site_header = "IVIG planner"
admin.site.site_title = "IVIG planner"

urlpatterns = [
    path("", ui_views.home, name="home"),
    path("", include("ivig.web.ui.urls")),
    path("", include("ivig.web.accounts.urls")),
    path("patients/", include("ivig.web.patients.urls")),
    path("patients/", include("ivig.web.plans.urls")),
    path("patients/", include("ivig.web.infusions.urls")),
    path("", include("ivig.web.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("favicon.ico", views.favicon, name="favicon"),
    re_path(
        r"^{}(?P<path>.*)$".format(settings.STATIC_URL.lstrip("/")), views.static, name="static"
    ),
]
