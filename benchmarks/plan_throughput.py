"""Plans per second for 10,000 varied plans, and the ratio to only parsing their input files.

Run: .venv/bin/python benchmarks/plan_throughput.py [--count 10000] [--repeat 3]
Prints figures; asserts nothing (timings on shared machines are noisy: read the median and the
ratio, both measured in the same run).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import time
from datetime import date

from ivig.core.catalogue import load_catalogue
from ivig.core.order import read_document_text
from ivig.core.plan import build_plan, parse_document

TODAY = date(2026, 11, 21)


def plan_texts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    catalogue = load_catalogue()
    products = [
        p.id
        for p in catalogue.products.values()
        if p.concentration_mg_ml is not None and p.marketed
    ]
    texts = []
    for i in range(count):
        product = rng.choice(products)
        weight = rng.choice([f"{rng.uniform(4, 120):.1f} kg", f"{rng.uniform(10, 260):.0f} lb"])
        days = rng.randint(1, 5)
        dose = rng.choice(["2 g/kg", "1 g/kg", "400 mg/kg/day", "0.5 g/kg", "40 g"])
        method = rng.choice(["actual", "actual", "adjusted", "ontario", "bloodstar"])
        rounding = rng.choice(["none", "whole_vial", "nearest_5_g"])
        indication = rng.choice(["pi", "itp", "cidp", "kawasaki", "jdm"])
        if rng.random() < 0.5:
            steps = [f'{{ rate = "{r} mL/kg/h", minutes = 30 }}' for r in (0.5, 1, 1.5)]
            steps.append(f'{{ rate = "{rng.choice([2, 3, 4.8])} mL/kg/h" }}')
            titration = "titration = [" + ", ".join(steps) + "]"
        else:
            titration = (
                'titration = { start = "0.5 mg/kg/min", increase_by = "0.8 mg/kg/min", '
                f'every_minutes = 20, max = "{rng.choice([4, 6, 8])} mg/kg/min" }}'
            )
        texts.append(
            f"""
[patient]
weight = "{weight}"
height = "{rng.randint(100, 195)} cm"
sex = "{rng.choice(["female", "male"])}"
age = "{rng.randint(19, 80) if method != "actual" else rng.randint(1, 80)} years"
blood_group = "{rng.choice(["O+", "A+", "B-", "AB+"])}"
first_infusion = {rng.choice(["true", "false"])}
conditions = {rng.choice(["[]", '["diabetes"]', '["migraine"]', '["heart_failure"]'])}

[order]
product = "{product}"
indication = "{indication}"
dose = "{dose}"
days = {days}
dosing_weight = "{method}"
vial_rounding = "{rounding}"
start = "2026-12-{(i % 28) + 1:02d}T08:30"
{titration}
"""
        )
    return texts


def run(count: int, repeat: int) -> None:
    texts = plan_texts(count)
    catalogue = load_catalogue()
    parse_times, plan_times, errors = [], [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        for text in texts:
            with contextlib.suppress(Exception):
                parse_document(read_document_text(text), catalogue)
        t1 = time.perf_counter()
        errors = 0
        for text in texts:
            try:
                build_plan(read_document_text(text), today=TODAY, catalogue=catalogue)
            except Exception:
                errors += 1
        t2 = time.perf_counter()
        parse_times.append(t1 - t0)
        plan_times.append(t2 - t1)
    parse_med, plan_med = statistics.median(parse_times), statistics.median(plan_times)
    print(f"plans: {count} varied plan files, {repeat} runs (median shown)")
    print(f"parse only: {count / parse_med:,.0f} files/s ({parse_med:.2f} s)")
    print(
        f"full plan (parse + dosing + schedule + checks): {count / plan_med:,.0f} plans/s "
        f"({plan_med:.2f} s)"
    )
    print(f"ratio full plan / parse only (time): {plan_med / parse_med:.2f}x")
    print(f"plans refused as bad input: {errors}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.count, args.repeat)
