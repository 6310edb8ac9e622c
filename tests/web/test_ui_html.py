"""``ivig.web.ui.html.value_html`` writes a value exactly as ``{{ value }}`` does in a template
(escaped, localised), whatever its type, in English and Spanish: plain text takes a short way
that must stay the template's."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from ivig.web.ui.html import value_html

VALUES = [
    "plain",
    "<b>Fever</b> & \"chills\" 'now'",
    "",
    "Llame al médico ¿ya?",
    mark_safe("<strong>kept</strong>"),
    floatformat(Decimal("40.05"), 1),  # a filter's safe output
    floatformat(Decimal("2.0005"), 3),
    gettext_lazy("unknown"),
    7,
    12345,
    Decimal("12.5"),
    Decimal("1234.567"),
    7.983,
    None,
    True,
    date(2026, 12, 3),
    datetime(2026, 12, 3, 8, 30, tzinfo=timezone.get_fixed_timezone(0)),
    ["a", "<b>"],
]


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_value_is_written_as_the_template_writes_it(language):
    template = Template("{{ value }}")
    with translation.override(language):
        for value in VALUES:
            assert value_html(value) == template.render(Context({"value": value})), value
    assert value_html("<b>&") == "&lt;b&gt;&amp;"
