"""``{% infusion_links patient %}``: the infusion block of the patient page (links and overdue
check-ins). The patient page has already passed ``ivig.web.access``.

The live infusion page's longest lists, written in Python (its template loops cost more than
the rest of the page's template; the page is opened after every step of the day): the log's
entries (``{% log_items %}``), the vitals schedule (``{% vitals_items %}``) and the links
that open each kind of record (``{% record_links %}``). tests/web/test_live_log.py compares each
with the template it replaced, in English and Spanish."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from ivig.web.infusions import live_log
from ivig.web.infusions.records import VitalsCheck, overdue_on_patient_page
from ivig.web.ui.html import value_html
from ivig.web.ui.words import clock

register = template.Library()


@register.inclusion_tag("infusions/_patient_links.html")
def infusion_links(patient: Any) -> dict[str, Any]:
    overdue, more = overdue_on_patient_page(patient)
    return {"patient": patient, "overdue": overdue, "more_overdue": more}


@register.simple_tag
def log_items(entries: Sequence[live_log.LogEntry], can_correct: bool) -> SafeString:
    """``<li>`` of each log entry (``live_log.items_html``)."""
    return live_log.items_html(entries, bool(can_correct))


@register.simple_tag
def vitals_items(checks: Iterable[VitalsCheck]) -> SafeString:
    """``<li>`` of each time vital signs are measured: when, what, and done (at what time),
    due now, missed (a gap) or later."""
    due = f'<strong class="above">{value_html(gettext("due now"))}</strong>'
    missed = f'<strong class="above">{value_html(gettext("not measured (a gap)"))}</strong>'
    later = value_html(gettext("later"))
    items = []
    for check in checks:
        if check.status == "done":
            state = gettext("measured at %(at)s") % {"at": value_html(clock(check.taken_at))}
        else:
            state = {"due": due, "missed": missed}.get(check.status, later)
        items.append(
            f'<li class="vitals-{value_html(check.status)}">{value_html(clock(check.at))} – '
            f"{value_html(check.words)}: {state}</li>"
        )
    return mark_safe("".join(items))  # every value is escaped (value_html)


@register.simple_tag
def record_links(links: Iterable[tuple[str, str, str]], saved: bool = False) -> SafeString:
    """A button per kind of record that fetches its form in place (htmx) or opens a page with
    just that form; after a record is saved, focus returns to the buttons and "Recorded."
    is said."""
    autofocus = " autofocus" if saved else ""
    recorded = (
        f' <span class="message success" role="status">{value_html(gettext("Recorded."))}</span>'
        if saved
        else ""
    )
    items = []
    for kind, label, url in links:
        kind, url = value_html(kind), value_html(url)
        items.append(
            f'<div class="record-open" id="record-{kind}"><a class="button secondary" '
            f'href="{url}" hx-get="{url}" hx-target="#record-{kind}" hx-swap="outerHTML"'
            f"{autofocus}>{value_html(label)}</a>{recorded}</div>"
        )
    return mark_safe("".join(items))  # every value is escaped (value_html)
