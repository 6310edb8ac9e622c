"""Today page helpers: the printable comparison and the lot search (``ivig.web.access`` in each)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from ivig.web.ui import views

app_name = "ui"

urlpatterns: list[URLPattern | URLResolver] = [
    path("lots/", views.lot_search, name="lot_search"),
    path(
        "patients/<int:patient_id>/plans/compare/print/", views.compare_print, name="compare_print"
    ),
]
