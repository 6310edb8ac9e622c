"""Form rendering shared by every app: one field template (label, help, error, widget).

Django 5.2 already links a field's error list and help text to its widget with
``aria-describedby`` and marks it ``aria-invalid``; our field template keeps that markup and
wraps each field in one ``div.field`` so the error sits right next to its field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.forms.renderers import TemplatesSetting
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _


class FormRenderer(TemplatesSetting):
    form_template_name = "includes/form.html"
    field_template_name = "includes/field.html"


def record_window() -> tuple[datetime, datetime]:
    """The earliest and latest time a record may carry (settings.RECORD_DATES, policy.toml)."""
    earliest = date.fromisoformat(str(settings.RECORD_DATES["earliest"]))
    start = timezone.make_aware(datetime(earliest.year, earliest.month, earliest.day))
    end = timezone.now() + timedelta(hours=int(str(settings.RECORD_DATES["future_margin_hours"])))
    return start, end


class RecordTimeField(forms.DateTimeField):
    """When something happened: refused outside the record window (e.g. year 0001 or 9999)."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        start, end = record_window()
        # Compare the years first: an aware datetime in year 1 or 9999 can overflow when
        # converted between time zones for the full comparison.
        if value.year < start.year or (value.year <= start.year + 1 and value < start):
            raise forms.ValidationError(
                _("This date is too early: records start on %(date)s."),
                code="too_early",
                params={"date": formats.date_format(start.date(), "DATE_FORMAT")},
            )
        if value.year > end.year or (value.year >= end.year - 1 and value > end):
            raise forms.ValidationError(
                _("This date cannot be in the future: a record says what has happened."),
                code="in_future",
            )
