"""What a family is told: the "About IVIG" sheet, live-vaccine waits by dose, antibody-test
cautions, premedication timing and cost reference ranges, all from ``ivig/data/family.toml``.

Every statement carries the keys of its sources (``family.toml [sources]``); a statement whose
sources are all weak is marked weak, and one where the sources disagree carries the conflict
text (the stricter reading is the one printed). This module holds no clinical number: the
vaccine table, the premedication window and the reference prices are data.

Pure: no Django, no database, no network; reads only package data files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ivig.core import units
from ivig.core.units import Kind

if TYPE_CHECKING:
    from ivig.core.plan_model import Plan

DATA_FILE = "family.toml"
QUALITIES = frozenset({"seed", "guideline", "label", "study", "copy", "weak", "derived", "design"})
SETTINGS = ("hospital", "clinic", "home")
SECTION_ORDER = (
    "what_is",
    "why",
    "product",
    "setting",
    "plan",
    "during",
    "after",
    "hydration",
    "premedication",
    "vaccines",
    "labs",
    "cost",
    "alternatives",
)
_PERSONAL_TITLES = {
    "why": ("Why IVIG is given", "Por qué se pone la IVIG"),
    "product": ("The product", "El producto"),
    "setting": ("Where it is given", "Dónde se pone"),
    "plan": ("How long each day takes", "Cuánto dura cada día"),
}


@dataclass(frozen=True)
class Statement:
    """One sentence (or two) for a family, in both languages, with its sources."""

    en: str
    es: str
    sources: tuple[str, ...]
    weak: bool = False
    conflict: str = ""  # how disagreeing sources were resolved (English)
    conflict_es: str = ""

    def text(self, language: str = "en") -> str:
        return self.es if language == "es" else self.en

    def conflict_text(self, language: str = "en") -> str:
        return self.conflict_es if language == "es" and self.conflict_es else self.conflict


@dataclass(frozen=True)
class Section:
    key: str
    title_en: str
    title_es: str
    lines: tuple[Statement, ...]

    def title(self, language: str = "en") -> str:
        return self.title_es if language == "es" else self.title_en


@dataclass(frozen=True)
class Sheet:
    sections: tuple[Section, ...]

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(line for section in self.sections for line in section.lines)

    def source_keys(self) -> tuple[str, ...]:
        """Every source the sheet cites, in first-cited order."""
        return tuple(dict.fromkeys(k for s in self.statements for k in s.sources))


@dataclass(frozen=True)
class VaccineWait:
    """The wait before a measles- or varicella-containing vaccine after a course."""

    dose_mg_kg: Decimal  # the stricter of per dosing weight and per actual weight
    months: int  # the row used (for a dose above the table: the last row, "at least")
    exact_row: bool  # the dose is within a row's range as printed (not between rows)
    above_table: bool  # the dose is above every row: the true wait is unknown
    regular_replacement: bool  # an indication given as regular replacement
    sources: tuple[str, ...]
    conflict: str
    conflict_es: str = ""


@dataclass(frozen=True)
class TeamPrice:
    """A care team's own price for one product, as they set it (never built in)."""

    price_per_g: Decimal
    currency: str
    set_on: date
    set_by: str


# --- Data ----------------------------------------------------------------------------------------


@cache
def family_data() -> Mapping[str, Any]:
    text = resources.files("ivig.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    _validate(data)
    return data


def _validate(data: Mapping[str, Any]) -> None:
    problems: list[str] = []
    sources = data["sources"]
    for key, source in sources.items():
        for field in ("document", "revision", "section", "quality"):
            if not str(source.get(field, "")).strip():
                problems.append(f"sources.{key}: {field} missing")
        if source.get("quality") not in QUALITIES:
            problems.append(f"sources.{key}: quality {source.get('quality')!r}")
    for where, keys in _all_source_lists(data):
        if not keys:
            problems.append(f"{where}: no sources")
        problems += [f"{where}: unknown source {k!r}" for k in keys if k not in sources]
    for name, section in data["sheet"].items():
        for i, line in enumerate(section.get("lines", [])):
            if not line.get("en", "").strip() or not line.get("es", "").strip():
                problems.append(f"sheet.{name}.lines[{i}]: English and Spanish both needed")
    for row in data["vaccines"]["rows"]:
        units.parse(row["dose_up_to"], "family.toml vaccines.rows.dose_up_to", Kind.DOSE_PER_KG)
    for key in ("unreliable_for", "dengue_for"):
        units.parse(data["serology"][key], f"family.toml serology.{key}", Kind.DURATION)
    if problems:
        raise RuntimeError("family.toml: " + "; ".join(problems))


def _all_source_lists(data: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for name, section in data["sheet"].items():
        for i, line in enumerate(section.get("lines", [])):
            out.append((f"sheet.{name}.lines[{i}]", line["sources"]))
    for name, ind in data["indications"].items():
        for part in ("why", "when", "evidence", "options"):
            out.append((f"indications.{name}.{part}", ind[f"{part}_sources"]))
    for i, row in enumerate(data["vaccines"]["rows"]):
        out.append((f"vaccines.rows[{i}]", row["sources"]))
    v = data["vaccines"]
    out.append(("vaccines.between_rows_sources", v["between_rows_sources"]))
    out.append(("vaccines.regular_replacement_sources", v["regular_replacement_sources"]))
    out.append(("serology.unreliable_sources", data["serology"]["unreliable_sources"]))
    out.append(("serology.dengue_sources", data["serology"]["dengue_sources"]))
    out.append(("setting.home_first_sources", data["setting"]["home_first_sources"]))
    out.append(("premedication.timing_sources", data["premedication"]["timing_sources"]))
    for name, drug in data["premedication"]["drugs"].items():
        out.append((f"premedication.drugs.{name}", drug["sources"]))
    for i, ref in enumerate(data["cost"]["reference"]):
        out.append((f"cost.reference[{i}]", ref["sources"]))
    return out


def source_line(key: str) -> str:
    s = family_data()["sources"][key]
    weak = " (weak source)" if s["quality"] == "weak" else ""
    return f"{s['document']}, {s['revision']}, {s['section']}{weak}"


def source_quality(key: str) -> str:
    return str(family_data()["sources"][key]["quality"])


def _statement(
    entry: Mapping[str, Any], prefix: str = "", sources_key: str = "sources"
) -> Statement:
    keys = tuple(entry[sources_key])
    weak = bool(entry.get("weak")) or all(source_quality(k) == "weak" for k in keys)
    return Statement(
        en=entry[f"{prefix}en"],
        es=entry[f"{prefix}es"],
        sources=keys,
        weak=weak,
        conflict=str(entry.get("conflict", "")),
        conflict_es=str(entry.get("conflict_es", "")),
    )


def _say(
    en: str, es: str, sources: Iterable[str], conflict: str = "", conflict_es: str = ""
) -> Statement:
    keys = tuple(dict.fromkeys(sources))
    weak = all(source_quality(k) == "weak" for k in keys)
    return Statement(en, es, keys, weak, conflict, conflict_es)


def _number(value: Decimal, language: str, places: int = 0) -> str:
    text = f"{units.round_half_up(value, places):f}"
    return text.replace(".", ",") if language == "es" else text


# --- Indications ---------------------------------------------------------------------------------


def indication_statements(indication_id: str | None) -> tuple[Statement, ...]:
    """Why, how soon, how strong the evidence and other options, for one indication."""
    entry = family_data()["indications"].get(indication_id or "")
    if entry is None:
        return (
            _say(
                "The reason for IVIG is not given on the order, so this sheet cannot say how "
                "soon it works or how strong the evidence is: ask the care team.",
                "La orden no indica el motivo de la IVIG, así que esta hoja no puede decir "
                "cuándo funciona ni cuán sólidas son las pruebas: pregunte al equipo.",
                ["DESIGN"],
            ),
        )
    return tuple(
        _statement(entry, f"{part}_", f"{part}_sources")
        for part in ("why", "when", "evidence", "options")
    )


def indication_notes(indication_id: str, notes_en: Sequence[str], language: str) -> tuple[str, ...]:
    """The clinical notes of indications.toml in the language asked (Spanish from family.toml)."""
    if language != "es":
        return tuple(notes_en)
    entry = family_data()["indications"].get(indication_id, {})
    notes_es = entry.get("notes_es", [])
    return tuple(notes_es) if len(notes_es) == len(notes_en) else tuple(notes_en)


# --- Vaccines ------------------------------------------------------------------------------------


def course_dose_mg_kg(plan: Plan) -> Decimal:
    """The course dose in mg per kg: the stricter (higher) of per dosing weight and per actual
    weight, and of the prescribed and the rounded dose."""
    grams = max(plan.course.prescribed_g, plan.course.dose_g)
    weight = min(plan.dosing.weight_kg, plan.dosing.actual_kg)
    return grams * 1000 / weight


def _mg_kg(text: str) -> Decimal:
    return (
        units.grams_per_kg(units.parse(text, "family.toml vaccines.rows", Kind.DOSE_PER_KG)) * 1000
    )


def live_vaccine_wait(plan: Plan) -> VaccineWait:
    """The wait before a measles- or varicella-containing vaccine after this course.

    Each table row covers the doses the sources print (``dose_from``..``dose_up_to``); a dose
    between rows or below the first takes the next higher row (the stricter reading); a dose
    above the last row has no cited figure, so the wait is "at least" the last row's."""
    v = family_data()["vaccines"]
    dose = course_dose_mg_kg(plan)
    rows = sorted(v["rows"], key=lambda r: _mg_kg(r["dose_up_to"]))
    regular = plan.document.order.indication in v["regular_replacement_indications"]
    extra = list(v["regular_replacement_sources"]) if regular else []
    for row in rows:
        if dose <= _mg_kg(row["dose_up_to"]):
            exact = dose >= _mg_kg(row["dose_from"])
            sources = [*row["sources"], *([] if exact else v["between_rows_sources"]), *extra]
            conflict = str(row.get("conflict", ""))
            conflict_es = str(row.get("conflict_es", ""))
            return VaccineWait(
                dose,
                int(row["months"]),
                exact,
                False,
                regular,
                tuple(sources),
                conflict,
                conflict_es,
            )
    last = rows[-1]
    above = (*last["sources"], *extra)
    return VaccineWait(dose, int(last["months"]), False, True, regular, above, "")


def vaccine_statements(plan: Plan, until: date | None) -> tuple[Statement, ...]:
    v = family_data()["vaccines"]
    t = v["text"]
    wait = live_vaccine_wait(plan)
    out: list[Statement] = [_say(t["why_en"], t["why_es"], ["SIBER-1993", "ACIP-TBL"])]
    fields = {"months": wait.months, "date": until.isoformat() if until else ""}
    dose_en, dose_es = _number(wait.dose_mg_kg, "en"), _number(wait.dose_mg_kg, "es")
    if wait.above_table:
        out.append(
            _say(
                t["above_en"].format(dose=dose_en, names=v["live_names_en"], **fields),
                t["above_es"].format(dose=dose_es, names=v["live_names_es"], **fields),
                wait.sources,
                wait.conflict,
                wait.conflict_es,
            )
        )
    else:
        key = "interval" if until else "interval_nodate"
        en = t[f"{key}_en"].format(dose=dose_en, names=v["live_names_en"], **fields)
        es = t[f"{key}_es"].format(dose=dose_es, names=v["live_names_es"], **fields)
        if not wait.exact_row:
            en, es = f"{en} {t['between_en']}", f"{es} {t['between_es']}"
        out.append(_say(en, es, wait.sources, wait.conflict, wait.conflict_es))
    if wait.regular_replacement:
        out.append(_say(t["regular_en"], t["regular_es"], v["regular_replacement_sources"]))
    return tuple(out)


def serology_statement(given_on: date | None) -> Statement:
    s = family_data()["serology"]
    when = given_on.isoformat() if given_on else "____"
    return _say(
        s["detail_en"].format(date=when),
        s["detail_es"].format(date=when),
        [*s["unreliable_sources"], *s["dengue_sources"]],
    )


def serology_months() -> tuple[int, int]:
    """(antibody tests unreliable for, dengue tests unreliable for), in months."""
    s = family_data()["serology"]
    return (_months(s["unreliable_for"]), _months(s["dengue_for"]))


def _months(text: str) -> int:
    number, _, unit = text.partition(" ")
    if unit.strip() not in ("month", "months"):
        raise RuntimeError(f"family.toml: {text!r}: expected a number of months")
    return int(number)


# --- Product, setting, plan ----------------------------------------------------------------------


def product_statements(plan: Plan) -> tuple[Statement, ...]:
    p = plan.product
    conc = plan.concentration_mg_ml
    out = [
        _say(
            f"{p.brand} ({p.manufacturer}) is a {_number(conc / 10, 'en', 1)}% solution: "
            f"{_number(conc, 'en')} mg of antibodies in each mL.",
            f"{p.brand} ({p.manufacturer}) es una solución al {_number(conc / 10, 'es', 1)} %: "
            f"{_number(conc, 'es')} mg de anticuerpos en cada mL.",
            ["PRODUCTS"],
        )
    ]
    meaning = {
        "sucrose": (
            "It contains sucrose (a sugar). Sucrose-containing products have been linked to "
            "kidney problems: drink well, and tell the team about less urine or swelling.",
            "Contiene sacarosa (un azúcar). Los productos con sacarosa se han relacionado con "
            "problemas de riñón: beba bien y avise al equipo si orina menos o hay hinchazón.",
        ),
        "maltose": (
            "It contains maltose, which can make some blood-sugar meters read falsely high. "
            "If blood sugar is checked, tell the team which product was given.",
            "Contiene maltosa, que puede hacer que algunos medidores de azúcar den lecturas "
            "falsamente altas. Si se mide el azúcar, diga al equipo qué producto se puso.",
        ),
        "sorbitol": (
            "It contains sorbitol: it must not be given to anyone with hereditary fructose "
            "intolerance.",
            "Contiene sorbitol: no se debe poner a nadie con intolerancia hereditaria a la "
            "fructosa.",
        ),
        "glucose": (
            "It contains glucose: blood sugar may rise for a while after the infusion.",
            "Contiene glucosa: el azúcar en sangre puede subir durante un tiempo tras la infusión.",
        ),
        "proline": (
            "It contains proline: it must not be given to anyone with hyperprolinemia.",
            "Contiene prolina: no se debe poner a nadie con hiperprolinemia.",
        ),
    }
    unknown: list[str] = []
    for name, (en, es) in meaning.items():
        fact = getattr(p, name)
        if fact.value is True:
            sources = ["PRODUCTS", "SEED-ACR"] if name == "glucose" else ["PRODUCTS"]
            out.append(_say(en, es, sources))
        elif fact.value is None:
            unknown.append(name)
    if unknown:
        names = ", ".join(unknown)
        out.append(
            _say(
                f"Whether it contains {names} is not known from the label data: ask the "
                "pharmacist if this matters for you.",
                f"No se sabe por los datos de la ficha si contiene {_es_names(unknown)}: "
                "pregunte al farmacéutico si le importa.",
                ["PRODUCTS"],
            )
        )
    iga = p.iga.value
    out.append(
        _say(
            f"IgA content: {iga or 'unknown'}. Reactions are more frequent in people who lack "
            "IgA; tell the team if you have IgA deficiency.",
            f"Contenido de IgA: {iga or 'desconocido'}. Las reacciones son más frecuentes en "
            "personas sin IgA; avise al equipo si tiene déficit de IgA.",
            ["PRODUCTS", "SEED-IS"],
        )
    )
    return tuple(out)


_ES_CONTENTS = {
    "sucrose": "sacarosa",
    "maltose": "maltosa",
    "sorbitol": "sorbitol",
    "glucose": "glucosa",
    "proline": "prolina",
}


def _es_names(names: Sequence[str]) -> str:
    return ", ".join(_ES_CONTENTS[n] for n in names)


def is_product_switch(plan: Plan) -> bool:
    previous = plan.document.patient.previous_product
    return bool(previous) and previous != plan.product.id


def setting_statements(plan: Plan, setting: str | None) -> tuple[Statement, ...]:
    s = family_data()["setting"]
    first = plan.document.patient.first_infusion
    if setting not in SETTINGS:
        return (
            _say(
                "Where this infusion is given is not stated on the order: ask the care team.",
                "La orden no indica dónde se pone esta infusión: pregunte al equipo.",
                ["PLAN"],
            ),
        )
    if setting == "home":
        out = [
            _say(
                "This infusion is planned at home, with a nurse (for example from a "
                "home-infusion company) watching throughout.",
                "Esta infusión está prevista en casa, con una enfermera (por ejemplo de una "
                "empresa de infusión a domicilio) vigilando todo el tiempo.",
                ["PLAN", "SEED-BCH", "SEED-IS"],
            )
        ]
        if first is not False or is_product_switch(plan):
            why_en = (
                "a first infusion"
                if first is True
                else "a first infusion of a new product"
                if is_product_switch(plan)
                else "possibly a first infusion (not stated)"
            )
            why_es = (
                "una primera infusión"
                if first is True
                else "la primera infusión de un producto nuevo"
                if is_product_switch(plan)
                else "quizá una primera infusión (no consta)"
            )
            out.append(
                _say(
                    f"This is {why_en}. The first infusion, and the first of a new product, "
                    "should be given in a closely supervised medical setting. Ask the care "
                    "team before giving it at home.",
                    f"Es {why_es}. La primera infusión, y la primera de un producto nuevo, se "
                    "debe poner en un centro médico con vigilancia estrecha. Pregunte al "
                    "equipo antes de ponerla en casa.",
                    [*s["home_first_sources"], *s["home_first_conflict_sources"]],
                    "An AAAAI expert judged a first dose at home through a nursing service "
                    "reasonably safe; the seed, HTA Core and EU-style texts ask for a supervised "
                    "setting. The stricter is used.",
                    "Un experto de la AAAAI consideró razonablemente segura una primera dosis en "
                    "casa con un servicio de enfermería; la hoja de referencia, HTA Core y los "
                    "textos europeos piden un centro supervisado. Se usa la más estricta.",
                )
            )
        return tuple(out)
    where_en = "in hospital" if setting == "hospital" else "in an outpatient clinic"
    where_es = "en el hospital" if setting == "hospital" else "en una consulta externa"
    return (
        _say(
            f"This infusion is planned {where_en}. The nurses watch closely during it; most "
            "people go home soon after.",
            f"Esta infusión está prevista {where_es}. Las enfermeras vigilan de cerca durante "
            "la infusión; la mayoría vuelve a casa poco después.",
            ["PLAN", "SEED-BCH"],
        ),
    )


def _duration_text(minutes: Decimal, language: str) -> str:
    total = int(units.round_half_up(minutes, 0))
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins:02d} min"


def plan_statements(plan: Plan) -> tuple[Statement, ...]:
    out: list[Statement] = []
    for day in plan.days:
        duration = day.schedule.duration_min
        span_en = span_es = ""
        if day.start is not None and day.end is not None:
            span_en = f", from {day.start:%H:%M} to about {day.end:%H:%M}"
            span_es = f", de {day.start:%H:%M} a aproximadamente las {day.end:%H:%M}"
        when = f" ({day.date.isoformat()})" if day.date else ""
        out.append(
            _say(
                f"Day {day.day}{when}: about {_duration_text(duration, 'en')} at the "
                f"prescribed rates{span_en}, plus time to set up and to watch afterwards.",
                f"Día {day.day}{when}: unas {_duration_text(duration, 'es')} a las "
                f"velocidades prescritas{span_es}, más el tiempo de preparación y de "
                "observación después.",
                ["PLAN", "SEED-BCH"],
            )
        )
    return tuple(out)


def premedication_mg(plan: Plan, dose: units.Quantity) -> tuple[Decimal, bool] | None:
    """A premedication dose in mg for this patient (per-kg doses × actual weight), and whether
    it was per kg. None for volumes (mL), which cannot be compared with a mass."""
    try:
        kind, quantity = units.parse_any(
            dose.text, "order.premedication.dose", (Kind.DOSE_FIXED, Kind.DOSE_PER_KG)
        )
    except units.QuantityError:
        return None
    if kind is Kind.DOSE_FIXED:
        return units.grams(quantity) * 1000, False
    return units.grams_per_kg(quantity) * 1000 * plan.dosing.actual_kg, True


def premedication_statements(plan: Plan) -> tuple[Statement, ...]:
    items = plan.document.order.premedication
    if not items:
        return (
            _say(
                "No premedication is on this order.",
                "Esta orden no incluye premedicación.",
                ["PLAN"],
            ),
        )
    out = []
    for item in items:
        dose_en = dose_es = ""
        if item.dose is not None:
            dose_en = dose_es = f" {item.dose.text}"
            amount = premedication_mg(plan, item.dose)
            if amount is not None and amount[1]:
                weight = _number(plan.dosing.actual_kg, "en", 1)
                dose_en += f" (= {_number(amount[0], 'en')} mg for {weight} kg)"
                dose_es += (
                    f" (= {_number(amount[0], 'es')} mg para "
                    f"{_number(plan.dosing.actual_kg, 'es', 1)} kg)"
                )
        if item.minutes_before is None:
            en_when, es_when = "(when: not stated, ask the team)", "(cuándo: no consta, pregunte)"
        else:
            en_when = f"{item.minutes_before} minutes before the infusion"
            es_when = f"{item.minutes_before} minutos antes de la infusión"
        repeat_en = repeat_es = ""
        if item.repeat_every is not None:
            repeat_en += f"; repeated every {item.repeat_every.text} during the infusion"
            repeat_es += f"; se repite cada {item.repeat_every.text} durante la infusión"
        if item.repeat_before_step is not None:
            repeat_en += f"; repeated before step {item.repeat_before_step}"
            repeat_es += f"; se repite antes del paso {item.repeat_before_step}"
        out.append(
            _say(
                f"Prescribed: {item.name}{dose_en}, {en_when}{repeat_en}.",
                f"Prescrito: {item.name}{dose_es}, {es_when}{repeat_es}.",
                ["PLAN"],
            )
        )
    return tuple(out)


# --- Cost ----------------------------------------------------------------------------------------


def cost_statements(plan: Plan, price: TeamPrice | None) -> tuple[Statement, ...]:
    out: list[Statement] = []
    if price is not None:
        grams = sum(
            (
                d.vial_total_g if d.vial_total_g is not None else d.dose_g
                for d in (day.dose for day in plan.days)
            ),
            Decimal(0),
        )
        wasted = sum(((d.dose.wasted_g or Decimal(0)) for d in plan.days), Decimal(0))
        cost = grams * price.price_per_g
        out.append(
            _say(
                f"Your care team's price for {plan.product.brand}: "
                f"{_number(price.price_per_g, 'en', 2)} {price.currency} per gram (set by the "
                f"team on {price.set_on.isoformat()}). This course opens "
                f"{_number(grams, 'en', 1)} g of vials: about {_number(cost, 'en', 0)} "
                f"{price.currency}, including {_number(wasted, 'en', 1)} g left in opened vials.",
                f"Precio de su equipo para {plan.product.brand}: "
                f"{_number(price.price_per_g, 'es', 2)} {price.currency} por gramo (fijado por "
                f"el equipo el {price.set_on.isoformat()}). Este ciclo abre "
                f"{_number(grams, 'es', 1)} g en viales: unos {_number(cost, 'es', 0)} "
                f"{price.currency}, incluidos {_number(wasted, 'es', 1)} g que sobran en viales "
                "abiertos.",
                ["PLAN"],
            )
        )
    else:
        out.append(
            _say(
                "Your care team has not entered a price for this product.",
                "Su equipo no ha introducido un precio para este producto.",
                ["PLAN"],
            )
        )
    out += [_statement(ref) for ref in family_data()["cost"]["reference"]]
    return tuple(out)


@dataclass(frozen=True)
class InfusionCost:
    """The cost of one infusion from the vials actually opened, at the care team's price."""

    opened_g: Decimal | None  # None: a vial's size was not recorded
    given_g: Decimal | None  # None: the stop entry gave no volume
    wasted_g: Decimal | None
    cost: Decimal | None
    vials: int
    missing_sizes: int


def infusion_cost(
    vial_sizes: Sequence[str | None], given_g: Decimal | None, price: TeamPrice | None
) -> InfusionCost:
    """Grams opened (sum of the recorded vial sizes, with their unit), grams wasted (opened minus
    given) and the cost at the team's price; unknown wherever a fact is missing."""
    sizes: list[Decimal] = []
    missing = 0
    for text in vial_sizes:
        if not text:
            missing += 1
            continue
        try:
            sizes.append(units.grams(units.parse(text, "vial size", Kind.DOSE_FIXED)))
        except units.QuantityError:
            missing += 1
    opened = sum(sizes, Decimal(0)) if not missing and sizes else None
    wasted = opened - given_g if opened is not None and given_g is not None else None
    cost = opened * price.price_per_g if opened is not None and price is not None else None
    return InfusionCost(opened, given_g, wasted, cost, len(vial_sizes), missing)


# --- The sheet -----------------------------------------------------------------------------------


def about_sheet(
    plan: Plan,
    *,
    setting: str | None = None,
    price: TeamPrice | None = None,
    course_end: date | None = None,
) -> Sheet:
    """The "About IVIG" sheet for this patient and plan."""
    data = family_data()
    sheet = data["sheet"]
    last_date = course_end
    if last_date is None:
        dates = [d.date for d in plan.days if d.date is not None]
        last_date = max(dates) if dates else None
    wait = live_vaccine_wait(plan)
    until = None
    if last_date is not None and not wait.above_table:
        until = units.add_months(datetime.combine(last_date, time()), wait.months).date()
    personal: dict[str, tuple[Statement, ...]] = {
        "why": indication_statements(plan.document.order.indication),
        "product": product_statements(plan),
        "setting": setting_statements(plan, setting),
        "plan": plan_statements(plan),
    }
    extra: dict[str, tuple[Statement, ...]] = {
        "premedication": premedication_statements(plan),
        "vaccines": vaccine_statements(plan, until),
        "labs": (serology_statement(last_date),),
        "cost": cost_statements(plan, price),
    }
    sections = []
    for key in SECTION_ORDER:
        if key in personal:
            en, es = _PERSONAL_TITLES[key]
            sections.append(Section(key, en, es, personal[key]))
            continue
        entry = sheet[key]
        lines = tuple(_statement(line) for line in entry.get("lines", []))
        if key in extra:
            lines = (*extra[key], *lines) if key != "cost" else (*lines, *extra[key])
        sections.append(Section(key, entry["title_en"], entry["title_es"], lines))
    return Sheet(tuple(sections))


# --- Premedication facts (for the order checks) --------------------------------------------------


def premedication_window_min() -> tuple[Decimal, Decimal]:
    p = family_data()["premedication"]
    low = units.minutes(units.parse(p["minutes_before_min"], "family.toml", Kind.DURATION))
    high = units.minutes(units.parse(p["minutes_before_max"], "family.toml", Kind.DURATION))
    return low, high


def premedication_drug(name: str) -> Mapping[str, Any] | None:
    lowered = name.strip().lower()
    for drug in family_data()["premedication"]["drugs"].values():
        if any(n in lowered for n in drug["names"]):
            return drug  # type: ignore[no-any-return]
    return None


__all__ = [
    "SETTINGS",
    "Section",
    "Sheet",
    "Statement",
    "TeamPrice",
    "VaccineWait",
    "about_sheet",
    "course_dose_mg_kg",
    "family_data",
    "indication_notes",
    "indication_statements",
    "is_product_switch",
    "live_vaccine_wait",
    "premedication_drug",
    "premedication_window_min",
    "serology_months",
    "serology_statement",
    "source_line",
    "source_quality",
    "vaccine_statements",
]
