"""Infusion pages. Mounted at /patients/ by ivig.web.urls; every view goes through
``ivig.web.access``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from ivig.web.infusions import care_calendar, going_home, views

app_name = "infusions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("<int:patient_id>/infusions/", views.infusion_list, name="list"),
    path("<int:patient_id>/infusions/start/", views.infusion_start, name="start"),
    path("<int:patient_id>/infusions/summary.csv", views.summary_csv, name="summary_csv"),
    path("<int:patient_id>/infusions/summary.pdf", views.summary_pdf, name="summary_pdf"),
    path("<int:patient_id>/infusions/<int:infusion_id>/", views.infusion_detail, name="detail"),
    path(
        "<int:patient_id>/infusions/<int:infusion_id>/going-home/",
        going_home.going_home,
        name="going_home",
    ),
    path(
        "<int:patient_id>/infusions/<int:infusion_id>/timeline/",
        views.infusion_timeline,
        name="timeline",
    ),
    path(
        "<int:patient_id>/infusions/<int:infusion_id>/rate/check/",
        views.rate_check,
        name="rate_check",
    ),
    path("<int:patient_id>/infusions/<int:infusion_id>/rate/", views.rate_change, name="rate"),
    path(
        "<int:patient_id>/infusions/<int:infusion_id>/record/<slug:kind>/",
        views.event_create,
        name="event",
    ),
    path(
        "<int:patient_id>/infusions/<int:infusion_id>/events/<int:event_id>/correct/",
        views.event_correct,
        name="correct",
    ),
    path("<int:patient_id>/checkins/<int:checkin_id>/", views.checkin, name="checkin"),
    path("<int:patient_id>/calendar/", care_calendar.calendar_page, name="calendar"),
    path("<int:patient_id>/calendar.ics", care_calendar.calendar_ics, name="calendar_ics"),
    path("<int:patient_id>/hydration/", views.hydration, name="hydration"),
    path("<int:patient_id>/hydration/limit/", views.fluid_limit, name="fluid_limit"),
]
