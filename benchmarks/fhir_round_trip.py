"""FHIR and CDS Hooks throughput for the seed chart's plan: export (plan -> validated Bundle),
import (Bundle -> order document), and a CDS Hooks order-sign evaluation (request -> cards),
each as a median per second over repeats, with the ratio to computing the plan alone.

Run: .venv/bin/python benchmarks/fhir_round_trip.py [--count 200] [--repeat 3]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ivig.core.order import read_document_file
from ivig.core.plan import build_plan
from ivig.interop import cds
from ivig.interop.fhir_export import plan_bundle
from ivig.interop.fhir_import import import_order

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 21)
TZ = ZoneInfo("Europe/Madrid")


def per_second(work: Callable[[], Any], count: int, repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(count):
            work()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    document = read_document_file(ROOT / "examples" / "seed-chart.toml")
    plan = build_plan(document, today=TODAY)
    measured = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    bundle = plan_bundle(plan, patient_id="p", request_id="o", tz=TZ, measured_at=measured)
    request = {
        "hook": "order-sign",
        "hookInstance": "b",
        "context": {
            "patientId": "p",
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    e
                    for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "MedicationRequest"
                ],
            },
        },
        "prefetch": {
            "patient": next(
                e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
            ),
            "weight": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [e for e in bundle["entry"] if e["resource"]["id"].endswith("weight")],
            },
        },
    }

    def sign() -> Any:
        checked = cds.check_orders(request, hook="order-sign", today=TODAY, tz=TZ)
        return cds.cards_for(checked, app_url="https://example.invalid/")

    figures = {
        "plan only (build_plan)": per_second(
            lambda: build_plan(document, today=TODAY), args.count, args.repeat
        ),
        "export (plan -> validated Bundle)": per_second(
            lambda: plan_bundle(plan, patient_id="p", request_id="o", tz=TZ, measured_at=measured),
            args.count,
            args.repeat,
        ),
        "import (Bundle -> order document)": per_second(
            lambda: import_order(bundle, tz=TZ), args.count, args.repeat
        ),
        "CDS order-sign (request -> cards)": per_second(sign, args.count, args.repeat),
    }
    base = figures["plan only (build_plan)"]
    print(
        f"{len(bundle['entry'])} resources in the Bundle; median of {args.repeat} runs of "
        f"{args.count}"
    )
    for name, rate in figures.items():
        print(f"{name:40s} {rate:8.0f} /s   ({rate / base:.2f} x the plan alone)")


if __name__ == "__main__":
    main()
