"""Form rendering shared by every app: one field template (label, help, error, widget).

Django 5.2 already links a field's error list and help text to its widget with
``aria-describedby`` and marks it ``aria-invalid``; our field template keeps that markup and
wraps each field in one ``div.field`` so the error sits right next to its field.
"""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    form_template_name = "includes/form.html"
    field_template_name = "includes/field.html"
