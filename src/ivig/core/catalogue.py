"""The product catalogue: IVIG products, their label facts, and the indication vocabulary.

Everything here is loaded from two package data files, ``ivig/data/products.toml`` and
``ivig/data/indications.toml``, read with :mod:`importlib.resources` so that an installed wheel
works. No clinical number lives in this module: rates, doses, contents and vial sizes are data,
each with its sources, and quantities are parsed and converted only by :mod:`ivig.core.units`.

A fact that is not known stays unknown (``None``), with a note saying why; it is never defaulted.
The loader refuses bad data with a :class:`CatalogueError` that names the product and the field:
unknown source ids, a quantity without a unit, a missing fact key, label figures that disagree
without a recorded mismatch, and so on.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from ivig.core import units
from ivig.core.units import Kind, QuantityError, RateKind

T = TypeVar("T")

DATA_PACKAGE = "ivig.data"
PRODUCTS_FILE = "products.toml"
INDICATIONS_FILE = "indications.toml"

QUALITIES = frozenset(
    {"label", "manufacturer", "regulator_non_us", "secondary", "seed", "guideline", "weak"}
)
VERIFIED_QUALITIES = frozenset({"label", "manufacturer", "seed", "guideline"})

# The facts every product must state, each with a value or explicitly unknown.
BOOLEAN_FACTS = ("sucrose", "maltose", "sorbitol", "glucose", "proline")
TEXT_FACTS = ("stabilizers", "sodium", "osmolality", "ph")
FORMS = frozenset({"liquid", "lyophilized"})

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class CatalogueError(Exception):
    """The catalogue data is wrong; the message names the file, product and field."""


# ─── The catalogue's types ───────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Source:
    """Where a fact comes from, at the precision it was read."""

    id: str
    document: str
    revision: str
    section: str
    url: str | None
    quality: str  # one of QUALITIES
    superseded: bool = False  # an older label kept for what it says; shown as unverified

    @property
    def provisional(self) -> bool:
        """True when the program must show facts resting on this source as unverified."""
        return self.superseded or self.quality not in VERIFIED_QUALITIES

    def cite(self) -> str:
        return f"{self.document}, {self.revision}, {self.section}"


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One product fact; ``value`` None means unknown (``note`` says why)."""

    value: T | None
    source_ids: tuple[str, ...]
    note: str = ""

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class PrintedRate:
    """One figure exactly as the label prints it, and its value in mL/kg/h."""

    text: str
    rate_ml_kg_h: Decimal


@dataclass(frozen=True)
class RateFact:
    """One label rate, in every unit the label prints it."""

    printed: tuple[PrintedRate, ...]
    governing_ml_kg_h: Decimal  # the figure in the label's primary unit, else the lowest one
    mismatch: str | None  # the label's unit mismatch, or None when the figures agree exactly
    minutes: int | None  # for an initial rate: how long the label keeps it
    source_ids: tuple[str, ...]
    note: str = ""
    strict: bool = False  # True when the label says "less than" rather than "up to"
    primary: str | None = None  # the printed figure in the label's primary unit, when it governs


@dataclass(frozen=True)
class RateUnits:
    """Which unit a product's label states its rates in first (the one that governs when the
    label's own figures disagree by rounding), with the source; "not established" when unknown."""

    primary: str  # "mL/kg/hr", "mg/kg/min", "mL/kg/min" or "not established"
    note: str
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class StepRule:
    """How the label lets the rate go up."""

    interval_minutes_min: int | None  # shortest interval allowed (15 for "every 15–30 min")
    interval_text: str
    increment: RateFact | None  # None when the label states no fixed increment
    source_ids: tuple[str, ...]
    ladder: tuple[RateFact, ...] = ()  # the label's own sequence of rates after the initial one


@dataclass(frozen=True)
class DoseRegimen:
    """A dose per course (all days together), in g/kg."""

    name: str
    dose_g_per_kg_min: Decimal
    dose_g_per_kg_max: Decimal
    days_min: int | None  # None: the number of infusion days is not stated by the source
    days_max: int | None
    interval_text: str
    source_ids: tuple[str, ...]
    note: str = ""
    dose_text: str = ""  # the dose as written in the source ("1 g/kg/day", "300 mg/kg–600 mg/kg")
    infusion_hours_min: Decimal | None = None  # duration of one infusion, where stated
    infusion_hours_max: Decimal | None = None


@dataclass(frozen=True)
class IndicationLabel:
    """What one product's label says for one indication."""

    indication: str
    population: str
    min_age_years: Decimal | None
    regimens: tuple[DoseRegimen, ...]  # empty: dose not found (dose_note says so)
    initial_rate: RateFact | None  # None: not found (rates_note says so)
    step: StepRule | None
    max_rate: RateFact | None
    rates_note: str
    source_ids: tuple[str, ...]
    adults_only: bool = False  # the label says "adults" without a number
    dose_note: str = ""


@dataclass(frozen=True)
class Contraindication:
    code: str
    text: str
    verified: bool  # False when only a non-US, secondary or inferred source says so
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class Caution:
    """A label warning that is not a contraindication (e.g. corn allergy for Octagam 10%)."""

    code: str
    text: str
    verified: bool
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class Product:
    id: str
    brand: str
    manufacturer: str
    marketed: bool
    form: str  # "liquid" | "lyophilized"
    concentrations_mg_ml: Fact[tuple[Decimal, ...]]
    sucrose: Fact[bool]
    maltose: Fact[bool]
    sorbitol: Fact[bool]
    glucose: Fact[bool]
    proline: Fact[bool]
    stabilizers: Fact[str]
    sodium: Fact[str]
    osmolality: Fact[str]
    ph: Fact[str]
    iga: Fact[str]
    iga_ug_ml: Decimal | None
    vial_sizes_g: Fact[tuple[Decimal, ...]]
    contraindications: tuple[Contraindication, ...]
    at_risk_max_rate: RateFact | None
    indications: tuple[IndicationLabel, ...]
    notes: tuple[str, ...]
    cautions: tuple[Caution, ...] = ()
    note_source_ids: tuple[str, ...] = ()
    at_risk_note: str = ""  # why at_risk_max_rate is None, or the note on it
    at_risk_source_ids: tuple[str, ...] = ()  # also when the label gives no number
    rate_units: RateUnits | None = None  # the label's primary rate unit (audited, with source)

    def indication(self, indication_id: str) -> IndicationLabel | None:
        for label in self.indications:
            if label.indication == indication_id:
                return label
        return None

    @property
    def concentration_mg_ml(self) -> Decimal | None:
        """The single concentration when exactly one is known, else None."""
        values = self.concentrations_mg_ml.value
        if values is None or len(values) != 1:
            return None
        return values[0]


@dataclass(frozen=True)
class Indication:
    id: str
    name_en: str
    name_es: str
    usual_regimens: tuple[DoseRegimen, ...]
    max_course_g: Decimal | None
    notes: tuple[str, ...]
    source_ids: tuple[str, ...]
    max_course_source_ids: tuple[str, ...] = ()
    max_course_note: str = ""


@dataclass(frozen=True)
class Catalogue:
    version: str  # catalogue_version + "+" + 12 hex of sha256 of both data files
    products: Mapping[str, Product]
    indications: Mapping[str, Indication]
    sources: Mapping[str, Source]

    def product(self, product_id: str) -> Product:
        try:
            return self.products[product_id]
        except KeyError:
            raise KeyError(f"unknown product {product_id!r}") from None

    def cite(self, source_ids: Iterable[str]) -> str:
        return "; ".join(self.sources[source_id].cite() for source_id in source_ids)

    def provisional(self, source_ids: Iterable[str]) -> bool:
        """True when none of the sources is verified (label, manufacturer, guideline, seed)."""
        return all(self.sources[source_id].provisional for source_id in source_ids)


# ─── Loading ─────────────────────────────────────────────────────────────────────────────────


@cache
def load_catalogue() -> Catalogue:
    """The catalogue from the package data files (read once, then cached)."""
    data = resources.files(DATA_PACKAGE)
    products_bytes = data.joinpath(PRODUCTS_FILE).read_bytes()
    indications_bytes = data.joinpath(INDICATIONS_FILE).read_bytes()
    return _load(products_bytes, indications_bytes)


def load_catalogue_from(products_text: str, indications_text: str) -> Catalogue:
    """A catalogue from TOML text (for tests and for reviewing a data change before release)."""
    return _load(products_text.encode("utf-8"), indications_text.encode("utf-8"))


def _load(products_bytes: bytes, indications_bytes: bytes) -> Catalogue:
    products_data = _toml(products_bytes, PRODUCTS_FILE)
    indications_data = _toml(indications_bytes, INDICATIONS_FILE)
    _keys(products_data, PRODUCTS_FILE, ("catalogue_version", "sources", "products"))
    _keys(indications_data, INDICATIONS_FILE, ("indications",), ("sources",))
    catalogue_version = _text(products_data, "catalogue_version", PRODUCTS_FILE)

    sources: dict[str, Source] = {}
    for file_name, data in ((PRODUCTS_FILE, products_data), (INDICATIONS_FILE, indications_data)):
        for source_id, table in _table(data.get("sources", {}), f"{file_name}: sources").items():
            if source_id in sources:
                raise CatalogueError(f"{file_name}: sources.{source_id}: defined twice")
            sources[source_id] = _source(source_id, table, f"{file_name}: sources.{source_id}")

    reader = _Reader(sources)
    indication_tables = _table(indications_data["indications"], f"{INDICATIONS_FILE}: indications")
    indications = {
        indication_id: reader.indication(
            indication_id, table, f"{INDICATIONS_FILE}: indications.{indication_id}"
        )
        for indication_id, table in indication_tables.items()
    }
    reader.indication_ids = frozenset(indications)
    product_tables = _table(products_data["products"], f"{PRODUCTS_FILE}: products")
    products = {
        product_id: reader.product(product_id, table, f"{PRODUCTS_FILE}: products.{product_id}")
        for product_id, table in product_tables.items()
    }

    unused = sorted(set(sources) - reader.used)
    if unused:
        raise CatalogueError(f"sources defined but never cited: {', '.join(unused)}")

    digest = hashlib.sha256(products_bytes + indications_bytes).hexdigest()[:12]
    return Catalogue(
        version=f"{catalogue_version}+{digest}",
        products=MappingProxyType(products),
        indications=MappingProxyType(indications),
        sources=MappingProxyType(sources),
    )


def _toml(data: bytes, file_name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{file_name}: not valid TOML: {exc}") from exc


def _source(source_id: str, value: object, path: str) -> Source:
    if not _SOURCE_ID.match(source_id):
        raise CatalogueError(f"{path}: a source id uses lower-case letters, digits and '-'")
    table = _table(value, path)
    _keys(table, path, ("document", "revision", "section", "quality"), ("url", "superseded"))
    quality = _text(table, "quality", path)
    if quality not in QUALITIES:
        raise CatalogueError(
            f"{path}.quality: {quality!r} is not one of {', '.join(sorted(QUALITIES))}"
        )
    url = _text(table, "url", path) if "url" in table else None
    return Source(
        id=source_id,
        document=_text(table, "document", path),
        revision=_text(table, "revision", path),
        section=_text(table, "section", path),
        url=url,
        quality=quality,
        superseded=_bool(table.get("superseded", False), f"{path}.superseded"),
    )


RATE_UNITS = ("mL/kg/hr", "mg/kg/min", "mL/kg/min")
NOT_ESTABLISHED = "not established"


class _Reader:
    """Reads products and indications, checking every source id it meets."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = sources
        self.used: set[str] = set()
        self.indication_ids: frozenset[str] = frozenset()
        self.primary_unit: str | None = None  # of the product being read

    # — sources —

    def source_ids(self, table: Mapping[str, Any], path: str, *, required: bool) -> tuple[str, ...]:
        if "sources" not in table:
            if required:
                raise CatalogueError(f"{path}: missing 'sources'")
            return ()
        raw = table["sources"]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise CatalogueError(f"{path}.sources: expected a list of source ids")
        if required and not raw:
            raise CatalogueError(f"{path}.sources: at least one source is needed")
        for source_id in raw:
            if source_id not in self.sources:
                raise CatalogueError(f"{path}.sources: unknown source id {source_id!r}")
        if len(set(raw)) != len(raw):
            raise CatalogueError(f"{path}.sources: a source id is listed twice")
        self.used.update(raw)
        return tuple(raw)

    # — facts —

    def fact(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        convert: Callable[[object, str], T],
        extra: tuple[str, ...] = (),
    ) -> tuple[Fact[T], dict[str, Any]]:
        """A fact with a value and sources, or explicitly unknown with a note."""
        fact_path = f"{path}.{key}"
        if key not in table:
            raise CatalogueError(
                f"{path}: missing fact {key!r} (give {key}.value with {key}.sources, or "
                f"{key}.unknown = true with {key}.note)"
            )
        fact_table = _table(table[key], fact_path)
        if "unknown" in fact_table:
            if fact_table["unknown"] is not True:
                raise CatalogueError(f"{fact_path}.unknown: write unknown = true, or leave it out")
            _keys(fact_table, fact_path, ("unknown", "note"), ("sources",))
            note = _text(fact_table, "note", fact_path)
            return Fact(None, self.source_ids(fact_table, fact_path, required=False), note), {}
        _keys(fact_table, fact_path, ("value", "sources"), ("note", *extra))
        value = convert(fact_table["value"], f"{fact_path}.value")
        note = _text(fact_table, "note", fact_path) if "note" in fact_table else ""
        source_ids = self.source_ids(fact_table, fact_path, required=True)
        return Fact(value, source_ids, note), fact_table

    def rate(
        self,
        value: object,
        path: str,
        concentration_mg_ml: Decimal | None,
        *,
        inherited_sources: tuple[str, ...] = (),
        allow_minutes: bool = False,
    ) -> RateFact:
        table = _table(value, path)
        _keys(table, path, ("printed",), ("sources", "note", "mismatch", "minutes", "strict"))
        texts = table["printed"]
        if not isinstance(texts, list) or not texts:
            raise CatalogueError(f"{path}.printed: expected a list of the label's figures")
        printed: list[PrintedRate] = []
        for index, text in enumerate(texts):
            field = f"{path}.printed[{index}]"
            quantity = _parse(text, field, Kind.RATE)
            if units.rate_kind(quantity) is RateKind.ML_H:
                raise CatalogueError(
                    f"{field}: {text!r} is a pump rate; label rates are per kg "
                    "(mg/kg/min, mL/kg/min or mL/kg/h)"
                )
            converted = units.rate_to_ml_kg_h(quantity, concentration_mg_ml, None)
            if converted is None:
                raise CatalogueError(
                    f"{field}: {text!r} cannot be converted to mL/kg/h because the product has "
                    "no single known concentration; record this rate as unknown"
                )
            rate_ml_kg_h = _tidy(converted)
            if rate_ml_kg_h <= 0:
                raise CatalogueError(f"{field}: a rate must be above zero")
            printed.append(PrintedRate(text=quantity.text, rate_ml_kg_h=rate_ml_kg_h))
        values = {p.rate_ml_kg_h for p in printed}
        mismatch = _text(table, "mismatch", path) if "mismatch" in table else None
        primary: PrintedRate | None = None
        if mismatch is not None and self.primary_unit in RATE_UNITS:
            wanted = _parse(f"1 {self.primary_unit}", f"{path} (primary unit)", Kind.RATE).unit
            for item, text in zip(printed, texts, strict=True):
                if _parse(text, path, Kind.RATE).unit == wanted:
                    primary = item
        if len(values) > 1 and mismatch is None:
            shown = ", ".join(f"{p.text} = {_plain(p.rate_ml_kg_h)} mL/kg/h" for p in printed)
            raise CatalogueError(
                f"{path}: the printed figures disagree ({shown}); write the label's unit "
                "mismatch in 'mismatch'"
            )
        if len(values) == 1 and mismatch is not None:
            raise CatalogueError(f"{path}.mismatch: recorded, but the printed figures agree")
        minutes: int | None = None
        if "minutes" in table:
            if not allow_minutes:
                raise CatalogueError(f"{path}.minutes: only an initial rate has a duration")
            minutes = _positive_int(table["minutes"], f"{path}.minutes")
        if "sources" in table or not inherited_sources:
            source_ids = self.source_ids(table, path, required=True)
        else:
            source_ids = inherited_sources
        return RateFact(
            printed=tuple(printed),
            governing_ml_kg_h=primary.rate_ml_kg_h if primary is not None else min(values),
            primary=primary.text if primary is not None else None,
            mismatch=mismatch,
            minutes=minutes,
            source_ids=source_ids,
            note=_text(table, "note", path) if "note" in table else "",
            strict=_bool(table.get("strict", False), f"{path}.strict"),
        )

    def optional_rate(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        concentration_mg_ml: Decimal | None,
        *,
        allow_minutes: bool = False,
    ) -> tuple[RateFact | None, str, tuple[str, ...]]:
        """A rate that must be present: given, or explicitly unknown (None, the note, sources)."""
        rate_path = f"{path}.{key}"
        if key not in table:
            raise CatalogueError(
                f"{path}: missing {key!r} (give {key}.printed with {key}.sources, or "
                f"{key}.unknown = true with {key}.note)"
            )
        rate_table = _table(table[key], rate_path)
        if "unknown" in rate_table:
            if rate_table["unknown"] is not True:
                raise CatalogueError(f"{rate_path}.unknown: write unknown = true, or leave it out")
            _keys(rate_table, rate_path, ("unknown", "note"), ("sources",))
            source_ids = self.source_ids(rate_table, rate_path, required=False)
            return None, _text(rate_table, "note", rate_path), source_ids
        rate = self.rate(rate_table, rate_path, concentration_mg_ml, allow_minutes=allow_minutes)
        return rate, "", rate.source_ids

    def step(
        self, table: Mapping[str, Any], path: str, concentration_mg_ml: Decimal | None
    ) -> tuple[StepRule | None, tuple[str, ...]]:
        """The step rule, or None when unknown; and the sources cited for it."""
        step_path = f"{path}.step"
        if "step" not in table:
            raise CatalogueError(
                f"{path}: missing 'step' (give step.interval_text with step.sources, or "
                "step.unknown = true with step.note)"
            )
        step_table = _table(table["step"], step_path)
        if "unknown" in step_table:
            if step_table["unknown"] is not True:
                raise CatalogueError(f"{step_path}.unknown: write unknown = true, or leave it out")
            _keys(step_table, step_path, ("unknown", "note"), ("sources",))
            _text(step_table, "note", step_path)
            return None, self.source_ids(step_table, step_path, required=False)
        _keys(
            step_table,
            step_path,
            ("interval_text", "sources"),
            ("interval_minutes_min", "increment", "ladder"),
        )
        source_ids = self.source_ids(step_table, step_path, required=True)
        interval: int | None = None
        if "interval_minutes_min" in step_table:
            interval = _positive_int(
                step_table["interval_minutes_min"], f"{step_path}.interval_minutes_min"
            )
        increment = None
        if "increment" in step_table:
            increment = self.rate(
                step_table["increment"],
                f"{step_path}.increment",
                concentration_mg_ml,
                inherited_sources=source_ids,
            )
        ladder_raw = step_table.get("ladder", [])
        if not isinstance(ladder_raw, list):
            raise CatalogueError(f"{step_path}.ladder: expected a list of rates")
        ladder = tuple(
            self.rate(
                item, f"{step_path}.ladder[{index}]", concentration_mg_ml,
                inherited_sources=source_ids,
            )
            for index, item in enumerate(ladder_raw)
        )
        rule = StepRule(
            interval_minutes_min=interval,
            interval_text=_text(step_table, "interval_text", step_path),
            increment=increment,
            source_ids=source_ids,
            ladder=ladder,
        )
        return rule, source_ids

    # — doses —

    def regimen(self, value: object, path: str) -> DoseRegimen:
        table = _table(value, path)
        _keys(
            table,
            path,
            ("name", "dose", "interval", "sources"),
            ("days", "note", "infusion_time"),
        )
        name = _text(table, "name", path)
        if not _ID.match(name):
            raise CatalogueError(f"{path}.name: use lower-case letters, digits and '_'")
        days_min, days_max = _days(table.get("days"), f"{path}.days")
        note = _text(table, "note", path) if "note" in table else ""
        if days_min is None and not note:
            raise CatalogueError(f"{path}: 'days' is missing; say in 'note' why it is not known")
        dose_texts = _one_or_two(table["dose"], f"{path}.dose")
        parsed = [
            _parse_any(text, f"{path}.dose", (Kind.DOSE_PER_KG, Kind.DOSE_PER_KG_PER_DAY))
            for text in dose_texts
        ]
        kinds = {kind for kind, _ in parsed}
        if len(kinds) > 1:
            raise CatalogueError(f"{path}.dose: give both ends per course or both per day")
        if kinds == {Kind.DOSE_PER_KG_PER_DAY}:
            if days_min is None or days_max is None:
                raise CatalogueError(f"{path}.dose: a daily dose needs 'days'")
            dose_min = _tidy(units.grams_per_kg_per_day(parsed[0][1]) * days_min)
            dose_max = _tidy(units.grams_per_kg_per_day(parsed[-1][1]) * days_max)
        else:
            dose_min = _tidy(units.grams_per_kg(parsed[0][1]))
            dose_max = _tidy(units.grams_per_kg(parsed[-1][1]))
        if dose_min <= 0 or dose_max < dose_min:
            raise CatalogueError(f"{path}.dose: expected 0 < lowest ≤ highest")
        hours_min: Decimal | None = None
        hours_max: Decimal | None = None
        if "infusion_time" in table:
            times = _one_or_two(table["infusion_time"], f"{path}.infusion_time")
            hours = [
                _tidy(_parse(text, f"{path}.infusion_time", Kind.DURATION).to("hour"))
                for text in times
            ]
            hours_min, hours_max = hours[0], hours[-1]
            if hours_min <= 0 or hours_max < hours_min:
                raise CatalogueError(f"{path}.infusion_time: expected 0 < shortest ≤ longest")
        return DoseRegimen(
            name=name,
            dose_g_per_kg_min=dose_min,
            dose_g_per_kg_max=dose_max,
            days_min=days_min,
            days_max=days_max,
            interval_text=_text(table, "interval", path),
            source_ids=self.source_ids(table, path, required=True),
            note=note,
            dose_text="–".join(q.text for _, q in parsed),
            infusion_hours_min=hours_min,
            infusion_hours_max=hours_max,
        )

    def regimens(self, table: Mapping[str, Any], key: str, path: str) -> tuple[DoseRegimen, ...]:
        raw = table.get(key, [])
        if not isinstance(raw, list):
            raise CatalogueError(f"{path}.{key}: expected a list of regimens")
        return tuple(
            self.regimen(item, f"{path}.{key}[{index}]") for index, item in enumerate(raw)
        )

    # — products —

    def rate_units(self, table: Mapping[str, Any], path: str) -> RateUnits | None:
        if "rate_units" not in table:
            return None
        units_path = f"{path}.rate_units"
        units_table = _table(table["rate_units"], units_path)
        _keys(units_table, units_path, ("primary", "note"), ("sources",))
        primary = _text(units_table, "primary", units_path)
        if primary not in (*RATE_UNITS, NOT_ESTABLISHED):
            raise CatalogueError(
                f"{units_path}.primary: {primary!r} is not one of "
                f"{', '.join((*RATE_UNITS, NOT_ESTABLISHED))}"
            )
        return RateUnits(
            primary=primary,
            note=_text(units_table, "note", units_path),
            source_ids=self.source_ids(units_table, units_path, required=False),
        )

    def product(self, product_id: str, value: object, path: str) -> Product:
        if not _ID.match(product_id):
            raise CatalogueError(f"{path}: a product id uses lower-case letters, digits and '_'")
        table = _table(value, path)
        fact_keys = ("concentrations", *BOOLEAN_FACTS, *TEXT_FACTS, "iga", "vial_sizes")
        _keys(
            table,
            path,
            ("brand", "manufacturer", "marketed", "form"),
            (*fact_keys, "at_risk_max_rate", "contraindications", "cautions", "indications",
             "notes", "rate_units"),
        )
        rate_units = self.rate_units(table, path)
        self.primary_unit = rate_units.primary if rate_units is not None else None
        form = _text(table, "form", path)
        if form not in FORMS:
            raise CatalogueError(f"{path}.form: {form!r} is not one of {', '.join(sorted(FORMS))}")

        concentrations, _ = self.fact(
            table, "concentrations", path, _quantities(Kind.CONCENTRATION, "mg/mL")
        )
        concentration = (
            concentrations.value[0]
            if concentrations.value is not None and len(concentrations.value) == 1
            else None
        )
        booleans = {key: self.fact(table, key, path, _bool)[0] for key in BOOLEAN_FACTS}
        texts = {key: self.fact(table, key, path, _nonempty_text)[0] for key in TEXT_FACTS}
        iga, iga_table = self.fact(table, "iga", path, _nonempty_text, extra=("amount",))
        iga_ug_ml: Decimal | None = None
        if iga.known:
            if "amount" not in iga_table:
                raise CatalogueError(f"{path}.iga: missing 'amount' (the number in the statement)")
            iga_ug_ml = _tidy(
                _parse(
                    iga_table["amount"], f"{path}.iga.amount", Kind.MASS_CONCENTRATION_SMALL
                ).to("µg/mL")
            )
        vial_sizes, _ = self.fact(table, "vial_sizes", path, _quantities(Kind.DOSE_FIXED, "g"))
        at_risk, at_risk_note, at_risk_sources = self.optional_rate(
            table, "at_risk_max_rate", path, concentration
        )

        contraindications = tuple(
            Contraindication(*self.statement(item, f"{path}.contraindications[{index}]"))
            for index, item in enumerate(_list(table, "contraindications", path, required=True))
        )
        cautions = tuple(
            Caution(*self.statement(item, f"{path}.cautions[{index}]"))
            for index, item in enumerate(_list(table, "cautions", path, required=False))
        )
        indications: list[IndicationLabel] = []
        for index, item in enumerate(_list(table, "indications", path, required=True)):
            label = self.indication_label(item, f"{path}.indications[{index}]", concentration)
            if any(existing.indication == label.indication for existing in indications):
                raise CatalogueError(
                    f"{path}.indications[{index}]: {label.indication!r} is listed twice"
                )
            indications.append(label)
        notes: list[str] = []
        note_sources: list[str] = []
        for index, item in enumerate(_list(table, "notes", path, required=False)):
            note_path = f"{path}.notes[{index}]"
            note_table = _table(item, note_path)
            _keys(note_table, note_path, ("text",), ("sources",))
            notes.append(_text(note_table, "text", note_path))
            note_sources.extend(self.source_ids(note_table, note_path, required=False))

        return Product(
            id=product_id,
            brand=_text(table, "brand", path),
            manufacturer=_text(table, "manufacturer", path),
            marketed=_bool(table["marketed"], f"{path}.marketed"),
            form=form,
            concentrations_mg_ml=concentrations,
            sucrose=booleans["sucrose"],
            maltose=booleans["maltose"],
            sorbitol=booleans["sorbitol"],
            glucose=booleans["glucose"],
            proline=booleans["proline"],
            stabilizers=texts["stabilizers"],
            sodium=texts["sodium"],
            osmolality=texts["osmolality"],
            ph=texts["ph"],
            iga=iga,
            iga_ug_ml=iga_ug_ml,
            vial_sizes_g=vial_sizes,
            contraindications=contraindications,
            at_risk_max_rate=at_risk,
            indications=tuple(indications),
            notes=tuple(notes),
            cautions=cautions,
            note_source_ids=_merge(tuple(note_sources)),
            at_risk_note=at_risk_note if at_risk is None else at_risk.note,
            at_risk_source_ids=at_risk_sources,
            rate_units=rate_units,
        )

    def statement(self, value: object, path: str) -> tuple[str, str, bool, tuple[str, ...]]:
        table = _table(value, path)
        _keys(table, path, ("code", "text", "verified", "sources"))
        code = _text(table, "code", path)
        if not _ID.match(code):
            raise CatalogueError(f"{path}.code: use lower-case letters, digits and '_'")
        return (
            code,
            _text(table, "text", path),
            _bool(table["verified"], f"{path}.verified"),
            self.source_ids(table, path, required=True),
        )

    def indication_label(
        self, value: object, path: str, concentration_mg_ml: Decimal | None
    ) -> IndicationLabel:
        table = _table(value, path)
        indication_id = _text(table, "indication", path)
        if indication_id not in self.indication_ids:
            raise CatalogueError(
                f"{path}.indication: {indication_id!r} is not in {INDICATIONS_FILE}"
            )
        path = f"{path} ({indication_id})"
        _keys(
            table,
            path,
            ("indication", "population", "sources", "initial_rate", "step", "max_rate"),
            ("min_age", "adults_only", "regimens", "dose_note", "rates_note"),
        )
        min_age = None
        if "min_age" in table:
            min_age = _tidy(_parse(table["min_age"], f"{path}.min_age", Kind.DURATION).to("year"))
        initial, _, initial_sources = self.optional_rate(
            table, "initial_rate", path, concentration_mg_ml, allow_minutes=True
        )
        step, step_sources = self.step(table, path, concentration_mg_ml)
        maximum, _, max_sources = self.optional_rate(table, "max_rate", path, concentration_mg_ml)
        if (
            initial is not None
            and maximum is not None
            and initial.governing_ml_kg_h > maximum.governing_ml_kg_h
        ):
            raise CatalogueError(f"{path}: the initial rate is above the maximum rate")
        rates_note = _text(table, "rates_note", path) if "rates_note" in table else ""
        if (initial is None or step is None or maximum is None) and not rates_note:
            raise CatalogueError(f"{path}: a rate is unknown; say why in 'rates_note'")
        if "regimens" not in table:
            raise CatalogueError(f"{path}: missing 'regimens' (regimens = [] and a dose_note)")
        regimens = self.regimens(table, "regimens", path)
        dose_note = _text(table, "dose_note", path) if "dose_note" in table else ""
        if not regimens and not dose_note:
            raise CatalogueError(f"{path}: no regimen; say why in 'dose_note'")
        return IndicationLabel(
            indication=indication_id,
            population=_text(table, "population", path),
            min_age_years=min_age,
            regimens=regimens,
            initial_rate=initial,
            step=step,
            max_rate=maximum,
            rates_note=rates_note,
            # the label's sources, then those cited only for an unknown rate or step
            source_ids=_merge(
                self.source_ids(table, path, required=True),
                *(() if fact is not None else ids for fact, ids in (
                    (initial, initial_sources), (step, step_sources), (maximum, max_sources)
                )),
            ),
            adults_only=_bool(table.get("adults_only", False), f"{path}.adults_only"),
            dose_note=dose_note,
        )

    # — indications —

    def indication(self, indication_id: str, value: object, path: str) -> Indication:
        if not _ID.match(indication_id):
            raise CatalogueError(f"{path}: an indication id uses lower-case letters, digits, '_'")
        table = _table(value, path)
        _keys(
            table,
            path,
            ("name_en", "name_es", "sources"),
            ("usual_regimens", "max_course", "notes"),
        )
        max_course_g: Decimal | None = None
        max_course_sources: tuple[str, ...] = ()
        max_course_note = ""
        if "max_course" in table:
            fact, _ = self.fact(
                table, "max_course", path,
                lambda value, field: _tidy(_parse(value, field, Kind.DOSE_FIXED).to("g")),
            )
            max_course_g, max_course_sources, max_course_note = (
                fact.value, fact.source_ids, fact.note
            )
        notes = _list(table, "notes", path, required=False)
        if not all(isinstance(note, str) and note.strip() for note in notes):
            raise CatalogueError(f"{path}.notes: expected a list of sentences")
        return Indication(
            id=indication_id,
            name_en=_text(table, "name_en", path),
            name_es=_text(table, "name_es", path),
            usual_regimens=self.regimens(table, "usual_regimens", path),
            max_course_g=max_course_g,
            notes=tuple(notes),
            source_ids=self.source_ids(table, path, required=False),
            max_course_source_ids=max_course_sources,
            max_course_note=max_course_note,
        )


# ─── Small readers ───────────────────────────────────────────────────────────────────────────


def _table(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogueError(f"{path}: expected a table")
    return value


def _keys(
    table: Mapping[str, Any], path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> None:
    missing = [key for key in required if key not in table]
    if missing:
        raise CatalogueError(f"{path}: missing {', '.join(repr(key) for key in missing)}")
    unknown = sorted(set(table) - set(required) - set(optional))
    if unknown:
        raise CatalogueError(f"{path}: unknown key {', '.join(repr(key) for key in unknown)}")


def _text(table: Mapping[str, Any], key: str, path: str) -> str:
    return _nonempty_text(table.get(key), f"{path}.{key}")


def _nonempty_text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{path}: expected non-empty text")
    return value.strip()


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise CatalogueError(f"{path}: expected true or false")
    return value


def _positive_int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise CatalogueError(f"{path}: expected a whole number above zero")
    return value


def _list(table: Mapping[str, Any], key: str, path: str, *, required: bool) -> list[Any]:
    if key not in table:
        if required:
            raise CatalogueError(f"{path}: missing {key!r} (an empty list if there is none)")
        return []
    value = table[key]
    if not isinstance(value, list):
        raise CatalogueError(f"{path}.{key}: expected a list")
    return value


def _one_or_two(value: object, path: str) -> list[object]:
    if isinstance(value, list):
        if len(value) not in (1, 2):
            raise CatalogueError(f"{path}: give one value or [lowest, highest]")
        return list(value)
    return [value]


def _days(value: object, path: str) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    ends = _one_or_two(value, path)
    days = [_positive_int(end, path) for end in ends]
    if days[-1] < days[0]:
        raise CatalogueError(f"{path}: expected [fewest, most]")
    return days[0], days[-1]


def _parse(value: object, field: str, kind: Kind) -> units.Quantity:
    try:
        return units.parse(value, field, kind)
    except QuantityError as exc:
        raise CatalogueError(str(exc)) from exc


def _parse_any(value: object, field: str, kinds: tuple[Kind, ...]) -> tuple[Kind, units.Quantity]:
    try:
        return units.parse_any(value, field, kinds)
    except QuantityError as exc:
        raise CatalogueError(str(exc)) from exc


def _quantities(kind: Kind, unit: str) -> Callable[[object, str], tuple[Decimal, ...]]:
    def convert(value: object, path: str) -> tuple[Decimal, ...]:
        if not isinstance(value, list) or not value:
            raise CatalogueError(f"{path}: expected a list of quantities with units")
        amounts = tuple(
            _tidy(_parse(text, f"{path}[{index}]", kind).to(unit))
            for index, text in enumerate(value)
        )
        if any(amount <= 0 for amount in amounts):
            raise CatalogueError(f"{path}: every amount must be above zero")
        if len(set(amounts)) != len(amounts):
            raise CatalogueError(f"{path}: an amount is listed twice")
        return amounts

    return convert


def _merge(*groups: tuple[str, ...]) -> tuple[str, ...]:
    merged: list[str] = []
    for group in groups:
        merged.extend(item for item in group if item not in merged)
    return tuple(merged)


def _tidy(value: Decimal) -> Decimal:
    """The same number without trailing zeros or an exponent (4.800000 → 4.8, 1E+1 → 10)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
