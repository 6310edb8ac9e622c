"""``{% field %}`` (ivig.web.ui.templatetags.fields) writes the same HTML as the include it
replaces, ``includes/field.html``: for every field of every form shown through either, empty
and after a refused post (errors, values, aria attributes), in English and Spanish."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.utils import translation

from ivig.web.infusions import forms
from ivig.web.infusions.views import EVENT_FORMS

FORMS = [forms.RateForm, forms.CheckInForm, forms.HydrationForm, forms.FluidLimitForm,
         forms.CorrectionForm, *EVENT_FORMS.values()]
BAD = {"at": "tomorrow", "rate": "fast", "volume": "x" * 50, "symptoms": ["nonsense"],
       "temperature": "hot", "amount": "-1", "size": "", "lot_number": "<b>1</b>"}

by_include = Template('{% for f in form %}{% include "includes/field.html" with field=f %}|'
                      "{% endfor %}")
by_tag = Template("{% load fields %}{% for f in form %}{% field f %}|{% endfor %}")


def _squeeze(html: str) -> str:
    """Whitespace between tags is not part of what is shown."""
    return re.sub(r">\s+([<|])", r">\1", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_field_tag_writes_what_the_include_wrote(form_class, language):
    with translation.override(language):
        for form in (form_class(), form_class(data=BAD), form_class(prefix="vitals")):
            form.is_bound and form.is_valid()
            context = Context({"form": form})
            want = _squeeze(by_include.render(context))
            got = _squeeze(by_tag.render(context))
            assert got == want
            assert "<label" in got or "<legend" in got


def test_the_field_tag_escapes_what_it_is_given():
    form = forms.RateForm(data={"rate": '"><script>alert(1)</script>'})
    form.is_valid()
    html = by_tag.render(Context({"form": form}))
    assert "<script>" not in html and "&lt;script&gt;" in html
