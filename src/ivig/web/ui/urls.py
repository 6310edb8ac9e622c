"""Today page helpers: the printable comparison and the lot search (``ivig.web.access`` in each)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "ui"

urlpatterns: list[URLPattern | URLResolver] = []
