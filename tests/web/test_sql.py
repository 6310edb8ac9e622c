"""The shared pieces of the hand-written reads (ivig.web.sql): a ``SlicedRows`` answers every
index and slice as the list of its rows would, reading only non-empty slices, and ``marks``
writes one parameter mark per value."""

from __future__ import annotations

import pytest

from ivig.web.sql import SlicedRows, marks


class Listed(SlicedRows[int]):
    def __init__(self, items: list[int]) -> None:
        self.items = items
        self.read: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self.items)

    def rows(self, first: int, last: int) -> list[int]:
        assert 0 <= first < last <= len(self.items)
        self.read.append((first, last))
        return self.items[first:last]


@pytest.mark.parametrize("size", [0, 1, 7])
def test_every_index_and_slice_reads_as_the_list(size):
    items = list(range(100, 100 + size))
    rows = Listed(items)
    for i in range(-size - 2, size + 2):
        if -size <= i < size:
            assert rows[i] == items[i]
        else:
            with pytest.raises(IndexError):
                rows[i]
    for first in (None, -9, -3, 0, 2, 9):
        for last in (None, -9, -1, 0, 3, 9):
            for step in (None, 1, 2, -1):
                assert rows[first:last:step] == items[first:last:step]
    assert all(last > first for first, last in rows.read)
    assert list(rows) == items


def test_marks():
    assert marks(3) == "%s, %s, %s"
    assert marks({4, 5}) == "%s, %s" and marks([]) == ""
