"""``{% load fields %}``: ``{% field form.name %}`` renders one form field exactly as
``{% include "includes/field.html" with field=form.name %}`` does (the wrapper with its state
classes, the label, the help text, the errors, the widget), with the wrapper, label and help
text written here instead of through three nested templates: the live infusion page shows
its rate form on every visit. The widget itself is still rendered by Django; a field shown as
a fieldset (radio buttons, checkboxes) goes through the template. tests/web/test_field_tag.py
compares the two, field by field, for every form that uses them.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.template.loader import render_to_string
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


def _attrs(attrs: dict[str, Any]) -> str:
    """Attributes as django/forms/attrs.html writes them."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def label_html(bound: BoundField) -> str:
    """``bound.label_tag()`` (Django's rules for the suffix, ``for`` and the required class)
    without its template."""
    contents: Any = bound.label
    suffix = (
        bound.field.label_suffix
        if bound.field.label_suffix is not None
        else bound.form.label_suffix
    )
    if suffix and contents and contents[-1] not in gettext(":?.!"):
        contents = format_html("{}{}", contents, suffix)
    widget = bound.field.widget
    id_ = widget.attrs.get("id") or bound.auto_id
    if not id_:
        return str(conditional_escape(contents))
    attrs: dict[str, Any] = {}
    id_for_label = widget.id_for_label(id_)
    if id_for_label:
        attrs["for"] = id_for_label
    if bound.field.required and hasattr(bound.form, "required_css_class"):
        attrs["class"] = bound.form.required_css_class
    return f"<label{_attrs(attrs)}>{conditional_escape(contents)}</label>"


@register.simple_tag
def field(bound: BoundField) -> SafeString:
    if bound.use_fieldset:
        return mark_safe(render_to_string("includes/field.html", {"field": bound}))
    classes = "field"
    if bound.errors:
        classes += " has-error"
    if bound.field.required:
        classes += " required"
    parts = [f'<div class="{classes}">']
    if bound.label:
        parts.append(label_html(bound))
    if bound.help_text:
        helptext_id = f' id="{conditional_escape(bound.auto_id)}_helptext"' if bound.auto_id else ""
        # marked safe in field.html too: help texts are the application's own words
        parts.append(f'<div class="helptext"{helptext_id}>{bound.help_text}</div>')
    if bound.errors:
        parts.append(str(bound.errors))
    parts.append(str(bound))
    parts.append("</div>")
    return mark_safe("\n".join(parts))
