"""Plan pages. Mounted at /patients/ by ivig.web.urls, so routes here look like
``<int:patient_id>/plans/new/``; every view goes through ``ivig.web.access``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from ivig.web.plans import family_views, views

app_name = "plans"

urlpatterns: list[URLPattern | URLResolver] = [
    path("blank-chart/", views.blank_chart, name="blank_chart"),
    path("<int:patient_id>/plans/", views.plan_list, name="list"),
    path("<int:patient_id>/plans/new/", views.plan_create, name="create"),
    path("<int:patient_id>/plans/new-course/", views.plan_new_course, name="new_course"),
    path("<int:patient_id>/plans/preview/", views.plan_preview, name="preview"),
    path("<int:patient_id>/plans/compare/", views.plan_compare, name="compare"),
    path("<int:patient_id>/plans/<int:version_id>/", views.plan_detail, name="detail"),
    path("<int:patient_id>/plans/<int:version_id>/edit/", views.plan_edit, name="edit"),
    path("<int:patient_id>/plans/<int:version_id>/archive/", views.plan_archive, name="archive"),
    path("<int:patient_id>/plans/<int:version_id>/approve/", views.plan_approve, name="approve"),
    path("<int:patient_id>/plans/<int:version_id>/print/", views.plan_print, name="print"),
    path("<int:patient_id>/plans/<int:version_id>/pdf/", views.plan_pdf, name="pdf"),
    path("<int:patient_id>/plans/<int:version_id>/about/", family_views.about_ivig, name="about"),
]
