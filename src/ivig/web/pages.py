"""Paging for lists that grow with the record (infusion log, infusions, history of changes).

A page number that is not a number or out of range shows the nearest page, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def page(
    request: HttpRequest,
    items: QuerySet[Any] | Sequence[Any],
    size: int,
    *,
    newest_last: bool = False,
) -> Page[Any]:
    """The page asked for by ``?page=``; without one, the first page, or the last when the
    list runs oldest to newest (``newest_last``), so the newest entries show first."""
    paginator: Paginator[Any] = Paginator(items, size)
    number = request.GET.get("page") or (paginator.num_pages if newest_last else 1)
    return paginator.get_page(number)
