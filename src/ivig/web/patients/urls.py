from __future__ import annotations

from django.urls import path

from ivig.web.patients import between, views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/archive/", views.patient_archive, name="archive"),
    path("<int:patient_id>/history/", views.patient_history_view, name="history"),
    path("<int:patient_id>/between-courses/", between.between_courses, name="between"),
    path("<int:patient_id>/measurements/new/", views.measurement_create, name="measurement_create"),
    path(
        "<int:patient_id>/measurements/<int:measurement_id>/archive/",
        views.measurement_archive,
        name="measurement_archive",
    ),
]
