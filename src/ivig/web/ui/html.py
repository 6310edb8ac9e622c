"""Values written into HTML by Python exactly as a template writes them.

The busiest lists (the live log, the infusions page's tables) are written in Python rather than
by template tags; each value goes through Django's own ``render_value_in_context``, so it is
escaped and localised as ``{{ value }}`` would be, and a join is the ``join`` filter's.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape

_CONTEXT = Context(autoescape=True)


def value_html(value: object) -> str:
    """``{{ value }}``: escaped and localised. Plain text (most values of a table: words, times
    in words) takes the short way: a template only escapes it (``escape``, ``html.escape``)."""
    if type(value) is str:
        return html.escape(value)
    return str(render_value_in_context(value, _CONTEXT))


def join_html(values: Iterable[Any], separator: str) -> str:
    """``{{ values|join:separator }}`` with autoescaping (escaped, not localised)."""
    return str(conditional_escape(separator).join(conditional_escape(v) for v in values))
