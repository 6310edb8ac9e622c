"""The rows of the infusions page's history table and of its planned check-ins, written in
Python.

Each history row had some fifteen template variables, filters and tags: about 0.1 ms of
template rendering a row, 2 ms for a page of 20. This writes the same HTML (values escaped and
localised as ``{{ value }}`` is, the same filters), compared with the template markup it
replaces in tests/web/test_infusions_list_fast.py, in English and Spanish.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from ivig.core.timeline import CareEvent
from ivig.web.infusions.models import highest_answer
from ivig.web.infusions.records import InfusionSummary
from ivig.web.ui.html import join_html, value_html
from ivig.web.ui.templatetags.words import local_iso
from ivig.web.ui.words import checkin_title, when


def _detail_url(patient_id: int) -> str:
    """The infusion page's address with ``{}`` for the infusion (one ``reverse`` a table)."""
    url = reverse("infusions:detail", args=[patient_id, 0])
    assert url.endswith("/0/")
    return url[: -len("0/")] + "{}/"


def row_html(
    item: InfusionSummary,
    patient_id: int,
    detail_url: str | None = None,
    rates: dict[tuple[Any, Any], str] | None = None,
) -> str:
    """One row of the history table (``<tr>…</tr>``). ``rates``: the rate cells written so far
    for the table, by (mL/h, mL/kg/h): the same rates come back row after row (a course's
    steps), and ``floatformat`` costs more than the rest of a row."""
    infusion = item.infusion
    url = (detail_url or _detail_url(patient_id)).format(int(infusion.pk))
    started_words = when(infusion.started_at)
    if item.given_g is not None:
        given = value_html(item.given_g)
        if item.volume_infused_ml:
            given += f" ({value_html(item.volume_infused_ml)} mL)"
    elif item.given_words == "running":
        given = value_html(gettext("running"))
    else:
        given = value_html(gettext("unknown"))
    key = (item.highest_ml_h, item.highest_ml_kg_h)
    rate = rates.get(key) if rates is not None else None
    if rate is None:
        if item.highest_ml_h is not None:
            rate = (
                f"{value_html(floatformat(item.highest_ml_h, 1))} mL/h "
                f"({value_html(floatformat(item.highest_ml_kg_h, 3))} mL/kg/h)"
            )
        else:
            rate = "–"
        if rates is not None:
            rates[key] = rate
    reactions = "<br>".join(
        f"{join_html(r['symptoms'], ', ')} → {value_html(r['heading'])}" for r in item.reactions
    ) or value_html(gettext("none"))
    return (
        f'<tr><td><a href="{value_html(url)}">{value_html(started_words)}</a></td>'
        f"<td>{value_html(infusion.day)}</td><td>{value_html(item.brand)}</td><td>{value_html(item.dose_g)}</td>"
        f"<td>{given}</td><td>{join_html(item.lots, '; ')}</td>\n"
        f"        <td>{rate}</td>\n"
        f"        <td>{reactions}</td></tr>"
    )


def rows_html(history: Iterable[InfusionSummary], patient_id: int) -> SafeString:
    """Every row, as the template's loop wrote them (one after another, each after a line
    break and six spaces, the loop's own whitespace)."""
    detail = _detail_url(patient_id)
    rates: dict[tuple[Any, Any], str] = {}  # this table's rate cells (one language, one request)
    return mark_safe(  # every value is escaped by value_html or join_html
        "".join(f"\n      {row_html(item, patient_id, detail, rates)}\n    " for item in history)
    )


def planned_html(events: Iterable[CareEvent], language: str) -> SafeString:
    """The planned check-ins' list items, as the template's loop wrote them."""
    due = value_html(gettext("due"))
    items = []
    for event in events:
        title = event.title_es if language == "es" else event.title_en
        items.append(
            f"\n    <li>{value_html(title)} – {due} "
            f'<time datetime="{value_html(local_iso(event.starts_at))}">'
            f"{value_html(when(event.starts_at))}</time></li>\n  "
        )
    return mark_safe("".join(items))  # every value is escaped by value_html


def _checkin_url(patient_id: int) -> str:
    """The check-in page's address without the check-in's id and its closing slash."""
    url = reverse("infusions:checkin", args=[patient_id, 0])
    assert url.endswith("/0/")
    return url[: -len("0/")]


def _due_time(moment: datetime) -> str:
    """``<time datetime="{{ moment|local_iso }}">{{ moment|when }}</time>``, the local time
    worked out once for both (the wall-clock time ``local_iso`` and ``when`` show)."""
    local = timezone.localtime(moment).replace(tzinfo=None)
    return f'<time datetime="{value_html(local_iso(local))}">{value_html(when(local))}</time>'


def overdue_html(checkins: Iterable[Any], patient_id: int) -> SafeString:
    """The overdue check-ins' list items, as the template's loop wrote them: the title
    linking to the check-in, then when it was due."""
    head = _checkin_url(patient_id)
    due = value_html(gettext("due"))
    return mark_safe(  # every value is escaped by value_html
        "".join(
            f'<li><a href="{head}{int(item.pk)}/">{value_html(checkin_title(item))}</a> – {due} '
            f"{_due_time(item.due_at)}</li>"
            for item in checkins
        )
    )


def checkins_html(checkins: Iterable[Any], patient_id: int, now: datetime) -> SafeString:
    """The check-ins' list items (the newest of a long history), as the template's loop
    wrote them: the title linking to the check-in, when it is due, then the highest answer's
    triage or "overdue". Each check-in carries ``answer_lines`` (oldest first: the page reads
    their level, time and heading, not the whole answers)."""
    head = _checkin_url(patient_id)
    due, answered, overdue = (value_html(gettext(w)) for w in ("due", "answered", "overdue"))
    items = []
    for item in checkins:
        best = highest_answer(item.answer_lines)
        if best is not None:
            heading = value_html(best.heading) if best.heading is not None else ""
            state = f"· {answered}: <strong>{heading}</strong>"
        elif item.due_at <= now:
            state = f'· <strong class="above">{overdue}</strong>'
        else:
            state = ""
        items.append(
            f'\n    <li><a href="{head}{item.pk}/">{value_html(checkin_title(item))}</a> – {due} '
            f"{_due_time(item.due_at)}\n      {state}</li>\n  "
        )
    return mark_safe("".join(items))  # every value is escaped by value_html
