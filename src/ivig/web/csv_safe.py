"""CSV files that a spreadsheet opens as text, never as formulas (CSV formula injection).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula: a vial brand typed as ``=HYPERLINK("…")`` would become
a live link in the doctor's summary. Text cells starting with one of these characters get a
leading apostrophe (OWASP's advice), which the spreadsheet shows as plain text. Numbers written
by the program itself (ints, Decimals) are left as they are, so "-1.5" stays a number.

Every CSV the web app writes goes through :func:`writer`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet should show it: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out: Any) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any) -> _SafeWriter:
    """Like ``csv.writer(out)``, with every text cell neutralised."""
    return _SafeWriter(out)
