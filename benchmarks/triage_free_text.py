"""How long reading free text takes: a check-in typed in words, through the lexicon and the rules.

Run: .venv/bin/python benchmarks/triage_free_text.py [--count 2000] [--repeat 3]
Prints figures; asserts nothing. Reports: the median time to read one typed report with the
lexicon, the median time to triage it (read + evaluate), and the ratio to triaging the same
report given as machine names only (the cost of reading words), all measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from decimal import Decimal

from ivig.core.triage import Report, evaluate, read_free_text
from ivig.core.triage.lexicon import load_lexicon

PHRASES = [
    "she had a fit", "no trouble breathing", "wheezng a bit", "swollen lips and face",
    "tired after the infusion", "worst headache ever", "cola coloured pee", "no fever or rash",
    "le cuesta respirar", "sin fiebre", "dolor de cabeza", "she is fine", "the thingy on her arm",
    "hard to wake, floppy", "not sure if wheezing", "keeps vomiting since lunch",
]  # fmt: skip


def reports(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [". ".join(rng.sample(PHRASES, rng.randint(1, 5))) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    load_lexicon()
    print(f"lexicon load (once per process): {(time.perf_counter() - start) * 1000:.0f} ms, "
          f"{len(load_lexicon().terms)} phrases")  # fmt: skip
    texts = reports(args.count)
    names = [frozenset(s for r in read_free_text(t) for s in r.symptoms) for t in texts]
    read_t, triage_t, names_t = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for text in texts:
            read_free_text(text)
        t1 = time.perf_counter()
        for text in texts:
            evaluate(Report(free_text=(text,), age_months=Decimal(60),
                            hours_since_infusion_end=Decimal(12)))  # fmt: skip
        t2 = time.perf_counter()
        for symptoms in names:
            evaluate(Report(symptoms=symptoms, age_months=Decimal(60),
                            hours_since_infusion_end=Decimal(12)))  # fmt: skip
        t3 = time.perf_counter()
        read_t.append((t1 - t0) / len(texts))
        triage_t.append((t2 - t1) / len(texts))
        names_t.append((t3 - t2) / len(texts))
    read_ms = statistics.median(read_t) * 1000
    triage_ms = statistics.median(triage_t) * 1000
    names_ms = statistics.median(names_t) * 1000
    print(f"{args.count} typed reports (1-5 phrases), median of {args.repeat} runs:")
    print(f"  read with the lexicon:        {read_ms:.2f} ms per report")
    print(f"  triage from words:            {triage_ms:.2f} ms per report")
    print(f"  triage from machine names:    {names_ms:.2f} ms per report")
    print(f"  ratio words / machine names:  {triage_ms / names_ms:.1f}x")


if __name__ == "__main__":
    main()
