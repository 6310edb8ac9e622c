"""Words for people: the one place that turns stored values into what a page shows.

Every page, printout and export that shows a duration, a time, an age, a weight, a product name,
a triage level, a rule pack or a count goes through these helpers (or the template filters in
``ivig.web.ui.templatetags.words`` that wrap them), so that one rule applies everywhere:

- durations in hours and minutes ("5 h 45 min"), never "345.23 min";
- times in the active language's date format with a 24-hour clock ("Dec. 3, 2026, 08:30" /
  "3 de diciembre de 2026, 08:30"), never ISO text;
- ages in years and months;
- weights in kg with two decimals (design choice: the engine computes with the exact value; two
  decimals are what a scale shows), with the value as entered beside it when another unit was used;
- numbers with the active language's decimal separator (19.96 / 19,96);
- product names with their strength once ("Gammaplex 10%", never "Gammaplex 10% 10%");
- triage levels and dosing rule packs in plain words.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from ivig.core import units


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value: Any, places: int = 2) -> str:
    """A number rounded half up to at most ``places`` decimals (trailing zeros dropped), with
    the active language's decimal separator. Non-numbers come back unchanged."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded.normalize():f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    shown_places = len(text.split(".")[1]) if "." in text else 0
    return formats.number_format(Decimal(text), decimal_pos=shown_places, use_l10n=True)


def duration(minutes: Any) -> str:
    """Minutes as "5 h 45 min" (rounded half up to the minute); "unknown" for no value."""
    amount = _decimal(minutes)
    if amount is None:
        return _("unknown")
    total = int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    hours, rest = divmod(abs(total), 60)
    sign = "−" if total < 0 else ""
    if hours and rest:
        return f"{sign}{hours} h {rest} min"
    if hours:
        return f"{sign}{hours} h"
    return f"{sign}{rest} min"


def _as_datetime(value: Any) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            try:
                return date.fromisoformat(value)
            except ValueError:
                return None
    return None


def when(value: Any) -> str:
    """A date and time in the active language with a 24-hour clock; a date alone for a date.

    Aware datetimes are shown in the site's time zone; naive ones (a plan's "2026-12-03T08:30")
    are wall-clock times already and are shown as they are."""
    moment = _as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if not isinstance(moment, datetime):
        return _day_words(moment, get_language())
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{_day_words(moment.date(), get_language())}, {moment:%H:%M}"


@functools.lru_cache(maxsize=4096)
def _day_words(day: date, language: str | None) -> str:
    """A day in the active language's words, kept per language (the month names differ):
    Django's date formatting parses the format on every call, and a table of dates (the
    history, the infusions, the check-ins) asks for the same few days again and again."""
    return str(formats.date_format(day, "DATE_FORMAT"))


def day(value: Any) -> str:
    """A date (or the date of a datetime) in the active language."""
    moment = _as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if isinstance(moment, datetime) and timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "DATE_FORMAT")


def clock(value: Any) -> str:
    """Only the 24-hour clock time ("08:30")."""
    moment = _as_datetime(value)
    if not isinstance(moment, datetime):
        return "" if value is None else str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment:%H:%M}"


def age(birth_date: date | None, on: date | None = None) -> str:
    """Age in whole years and months ("6 years 5 months"); months alone under two years."""
    if birth_date is None:
        return _("unknown")
    on = on or timezone.localdate()
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    if on.day < birth_date.day:
        months -= 1
    if months < 0:
        return _("unknown")
    years, rest = divmod(months, 12)
    month_text = ngettext("%(count)d month", "%(count)d months", rest) % {"count": rest}
    if years < 2:
        return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    year_text = ngettext("%(count)d year", "%(count)d years", years) % {"count": years}
    return f"{year_text} {month_text}" if rest else year_text


def age_from_years(years: Any) -> str:
    """An age given as decimal years (the plan's "age_years": 6.46) in years and months."""
    amount = _decimal(years)
    if amount is None:
        return _("unknown")
    months = int((amount * 12).quantize(Decimal(1), rounding="ROUND_FLOOR"))
    whole, rest = divmod(months, 12)
    if whole < 2:
        return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    year_text = ngettext("%(count)d year", "%(count)d years", whole) % {"count": whole}
    if not rest:
        return year_text
    return f"{year_text} " + ngettext("%(count)d month", "%(count)d months", rest) % {
        "count": rest
    }


WEIGHT_PLACES = 2  # design choice: the one display rule for weights in kg (see module doc)


def weight_kg(kg: Any) -> str:
    """A weight in kg by the one display rule ("19.96 kg")."""
    amount = _decimal(kg)
    if amount is None:
        return _("unknown")
    return f"{number(amount, WEIGHT_PLACES)} kg"


def weight(given: str | None, kg: Any = None) -> str:
    """A weight as entered with its value in kg when another unit was used: "44 lb (19.96 kg)".

    ``kg`` is computed from ``given`` by the units module when not passed."""
    if not given:
        return weight_kg(kg)
    if kg is None:
        try:
            kg = units.mass_kg(units.parse(given, "weight", units.Kind.MASS))
        except units.QuantityError:
            return given
    given_text = given.strip()
    parts = given_text.split()
    if len(parts) == 2 and parts[1] == "kg":
        return weight_kg(kg)
    shown = f"{number(parts[0], 3)} {parts[1]}" if len(parts) == 2 else given_text
    return f"{shown} ({weight_kg(kg)})"


_STRENGTH = re.compile(r"\s*\d+(?:[.,]\d+)?\s*%")


def product_name(brand: str | None, percent: Any = None) -> str:
    """The brand with its strength once: "Gammaplex 10%" (also when the brand already says it)."""
    brand = (brand or "").strip()
    amount = _decimal(percent)
    if amount is None or _STRENGTH.search(brand):
        return brand or _("unknown product")
    return f"{brand} {number(amount, 1)}%"


def level(code: str | None) -> str:
    """A triage level in plain words."""
    words = {
        "emergency": _("Emergency: call the emergency number now"),
        "call_doctor": _("Call the care team today"),
        "expected": _("Expected: watch and record"),
    }
    if not code:
        return ""
    return words.get(code, code.replace("_", " "))


def level_short(code: str | None) -> str:
    words = {
        "emergency": pgettext("triage level", "Emergency"),
        "call_doctor": pgettext("triage level", "Call the care team"),
        "expected": pgettext("triage level", "Expected"),
    }
    if not code:
        return ""
    return words.get(code, code.replace("_", " "))


def rule_pack(code: str | None) -> str:
    """A dosing-weight rule pack in plain words (the name in dosing.toml, translated)."""
    words = {
        "ontario": _("Ontario rules (ORBCoN dose calculator)"),
        "bloodstar": _("Australian rules (NBA BloodSTAR)"),
        "actual": _("Actual body weight"),
        "ideal": _("Ideal body weight"),
        "adjusted": _("Adjusted body weight"),
    }
    if not code:
        return ""
    return words.get(code, code.replace("_", " "))


def plan_kind(kind: str | None) -> str:
    words = {
        "prescribed": _("Prescription"),
        "pump": _("Pump plan"),
        "amended": _("Amended prescription"),
    }
    return words.get(kind or "", kind or "")


def plan_title(version: Any) -> str:
    """A plan version's title with its number once: "Monthly course (no. 3)" or "Prescription
    no. 3" — never "Prescribed #1 #1"."""
    label = (getattr(version, "label", "") or "").strip()
    kind = plan_kind(getattr(version, "kind", ""))
    if label:
        return _("%(label)s (no. %(number)s)") % {"label": label, "number": version.pk}
    return _("%(kind)s no. %(number)s") % {"kind": kind, "number": version.pk}


def count(amount: int, singular: str, plural: str) -> str:
    """ "1 error", "2 errors" — pass translated singular and plural with %(count)d."""
    return ngettext(singular, plural, amount) % {"count": amount}


def strip_prefix(text: str, prefix: str) -> str:
    """The text without a leading repeat of ``prefix`` ("Check-in: Check-in: …" -> "…")."""
    out = text.strip()
    while prefix and out.lower().startswith(prefix.lower()):
        out = out[len(prefix) :].lstrip(" :—-")
    return out


def checkin_title(checkin: Any) -> str:
    """A check-in's title with "Check-in" once, in the active language.

    The record keeps the English label it was planned with; in English it is shown as stored,
    in Spanish the planned patterns are translated and any other label becomes "N h after the
    infusion" from the stored hours."""
    label = strip_prefix(str(getattr(checkin, "label", "") or ""), "Check-in")
    hours = getattr(checkin, "hours_after_end", None)
    if (get_language() or "en").startswith("en") and label:
        what = label
    elif match := re.fullmatch(r"(\d+(?:\.\d+)?) h after the infusion \(day (\d+)\)", label):
        what = _("%(hours)s h after the infusion (day %(day)s)") % {
            "hours": match.group(1),
            "day": match.group(2),
        }
    elif label.lower().startswith("before leaving"):
        what = _("before leaving: observation after the infusion")
    elif hours is not None:
        what = _("%(hours)s h after the infusion") % {"hours": number(hours, 1)}
    else:
        what = label
    return _("Check-in: %(what)s") % {"what": what} if what else _("Check-in")
