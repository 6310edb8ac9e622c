"""``{% load words %}``: the display rules of ``ivig.web.ui.words`` as template filters.

    {{ minutes|duration }}          5 h 45 min
    {{ moment|when }}               Dec. 3, 2026, 08:30 / 3 de diciembre de 2026, 08:30
    {{ moment|day }}  {{ moment|clock }}
    {{ patient.birth_date|age }}    6 years 5 months
    {{ years|age_years }}           the plan's decimal age in years and months
    {{ kg|weight_kg }}              19.96 kg
    {{ given|weight:kg }}           44 lb (19.96 kg)
    {{ value|num:2 }}               19.96 / 19,96
    {{ product.brand|product:product.concentration_percent }}
    {{ code|level }} {{ code|level_short }} {{ code|rule_pack }}
    {{ version|plan_title }}
"""

from __future__ import annotations

from typing import Any

from django import template

from ivig.web.ui import words

register = template.Library()

register.filter("duration", words.duration)
register.filter("when", words.when)
register.filter("day", words.day)
register.filter("clock", words.clock)
register.filter("weight_kg", words.weight_kg)
register.filter("level", words.level)
register.filter("level_short", words.level_short)
register.filter("rule_pack", words.rule_pack)
register.filter("plan_title", words.plan_title)
register.filter("plan_kind", words.plan_kind)
register.filter("checkin_title", words.checkin_title)


@register.filter
def age(birth_date: Any) -> str:
    return words.age(birth_date)


@register.filter
def age_years(years: Any) -> str:
    return words.age_from_years(years)


@register.filter
def weight(given: Any, kg: Any = None) -> str:
    return words.weight(str(given) if given else None, kg)


@register.filter
def num(value: Any, places: Any = 2) -> str:
    return words.number(value, int(places))


@register.filter
def product(brand: Any, percent: Any = None) -> str:
    return words.product_name(str(brand or ""), percent)


@register.filter
def iso(moment: Any) -> str:
    """Machine-readable time for <time datetime> and data attributes (UTC, seconds)."""
    return moment.isoformat(timespec="seconds") if moment is not None else ""


@register.filter
def local_iso(moment: Any) -> str:
    """Local wall-clock time for <time datetime="…"> ("2026-12-03 08:30")."""
    if moment is None:
        return ""
    from django.utils import timezone

    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return str(moment.strftime("%Y-%m-%d %H:%M"))
