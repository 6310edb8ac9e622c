"""The product catalogue for people: a list, or one product with the source of every fact."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ivig.core.catalogue import Catalogue, Fact, Product, RateFact
from ivig.core.checks import regimen_text
from ivig.render.plan_json import num


def _fact_value(fact: Fact[Any]) -> str:
    if not fact.known:
        return "unknown" + (f" ({fact.note})" if fact.note else "")
    value = fact.value
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, tuple):
        text = ", ".join(f"{v:f}" if isinstance(v, Decimal) else str(v) for v in value)
    elif isinstance(value, Decimal):
        text = f"{value:f}"
    else:
        text = str(value)
    return text + (f" ({fact.note})" if fact.note else "")


def _rate(fact: RateFact | None) -> str:
    if fact is None:
        return "unknown (not found in a verified label)"
    text = " = ".join(p.text for p in fact.printed)
    text += f" → {fact.governing_ml_kg_h.normalize():f} mL/kg/h"
    if fact.minutes:
        text += f" for {fact.minutes} min"
    if fact.mismatch:
        text += f" [label unit mismatch: {fact.mismatch}; the stricter figure governs]"
    return text


def products_text(catalogue: Catalogue) -> str:
    lines = [f"IVIG product catalogue (version {catalogue.version})", ""]
    for p in catalogue.products.values():
        conc = _fact_value(p.concentrations_mg_ml)
        status = "" if p.marketed else "  [discontinued]"
        indications = ", ".join(i.indication for i in p.indications) or "none verified"
        lines.append(f"{p.id:24} {p.brand} ({p.manufacturer}), {conc} mg/mL{status}")
        lines.append(f"{'':24} labeled: {indications}")
    lines.append("")
    lines.append("Show one product with its sources: ivig products PRODUCT_ID")
    return "\n".join(lines) + "\n"


def product_text(catalogue: Catalogue, p: Product) -> str:
    def cite(ids: tuple[str, ...]) -> str:
        return catalogue.cite(ids) if ids else "no source"

    lines = [f"{p.brand} — {p.manufacturer}" + ("" if p.marketed else " (discontinued)"), ""]
    facts: list[tuple[str, Fact[Any]]] = [
        ("Concentration (mg/mL)", p.concentrations_mg_ml),
        ("Sucrose", p.sucrose),
        ("Maltose", p.maltose),
        ("Sorbitol", p.sorbitol),
        ("Glucose", p.glucose),
        ("Proline", p.proline),
        ("Stabilizers", p.stabilizers),
        ("Sodium", p.sodium),
        ("IgA", p.iga),
        ("Osmolality", p.osmolality),
        ("pH", p.ph),
        ("Vial sizes (g)", p.vial_sizes_g),
    ]
    for name, fact in facts:
        lines.append(f"{name}: {_fact_value(fact)}")
        lines.append(f"    source: {cite(fact.source_ids)}")
    for ci in p.contraindications:
        flag = "" if ci.verified else " (not verified in the US label)"
        lines.append(f"Contraindication: {ci.text}{flag}")
        lines.append(f"    source: {cite(ci.source_ids)}")
    if p.at_risk_max_rate:
        lines.append(f"At-risk maximum rate: {_rate(p.at_risk_max_rate)}")
        lines.append(f"    source: {cite(p.at_risk_max_rate.source_ids)}")
    for row in p.indications:
        lines.append("")
        lines.append(f"Indication {row.indication}: {row.population}")
        for r in row.regimens:
            lines.append(f"  dose: {regimen_text(r)}")
        lines.append(f"  initial rate: {_rate(row.initial_rate)}")
        lines.append(f"  steps: {row.step.interval_text if row.step else 'unknown'}")
        if row.step and row.step.increment:
            lines.append(f"  increment: {_rate(row.step.increment)}")
        lines.append(f"  maximum rate: {_rate(row.max_rate)}")
        if row.rates_note:
            lines.append(f"  note: {row.rates_note}")
        lines.append(f"    source: {cite(row.source_ids)}")
    for note in p.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def _rate_dict(fact: RateFact | None) -> dict[str, Any] | None:
    if fact is None:
        return None
    return {
        "printed": [x.text for x in fact.printed],
        "rate_ml_kg_h": num(fact.governing_ml_kg_h, 4),
        "minutes": fact.minutes,
        "mismatch": fact.mismatch,
        "sources": list(fact.source_ids),
    }


def product_dict(catalogue: Catalogue, p: Product) -> dict[str, Any]:
    def fact(f: Fact[Any]) -> dict[str, Any]:
        value = f.value
        if isinstance(value, tuple):
            value = [float(v) if isinstance(v, Decimal) else v for v in value]
        elif isinstance(value, Decimal):
            value = float(value)
        return {
            "value": value if f.known else "unknown",
            "note": f.note,
            "sources": list(f.source_ids),
        }

    return {
        "id": p.id,
        "brand": p.brand,
        "manufacturer": p.manufacturer,
        "marketed": p.marketed,
        "concentrations_mg_ml": fact(p.concentrations_mg_ml),
        **{
            name: fact(getattr(p, name))
            for name in (
                "sucrose",
                "maltose",
                "sorbitol",
                "glucose",
                "proline",
                "stabilizers",
                "sodium",
                "iga",
                "osmolality",
                "ph",
                "vial_sizes_g",
            )
        },
        "contraindications": [
            {"code": c.code, "text": c.text, "verified": c.verified, "sources": list(c.source_ids)}
            for c in p.contraindications
        ],
        "at_risk_max_rate": _rate_dict(p.at_risk_max_rate),
        "indications": [
            {
                "indication": r.indication,
                "population": r.population,
                "initial_rate": _rate_dict(r.initial_rate),
                "max_rate": _rate_dict(r.max_rate),
                "step": r.step.interval_text if r.step else None,
                "note": r.rates_note,
                "sources": list(r.source_ids),
            }
            for r in p.indications
        ],
        "sources": {
            i: catalogue.sources[i].cite() for i in sorted(_all_ids(p)) if i in catalogue.sources
        },
    }


def _all_ids(p: Product) -> set[str]:
    ids: set[str] = set()
    for name in (
        "concentrations_mg_ml",
        "sucrose",
        "maltose",
        "sorbitol",
        "glucose",
        "proline",
        "stabilizers",
        "sodium",
        "iga",
        "osmolality",
        "ph",
        "vial_sizes_g",
    ):
        ids.update(getattr(p, name).source_ids)
    for c in p.contraindications:
        ids.update(c.source_ids)
    for r in p.indications:
        ids.update(r.source_ids)
    return ids
