"""Hand-written SQL for the hottest reads, read back exactly as the ORM reads them.

A statement built through the ORM costs about 0.3 ms of Python to compile and to build its
model instances, against a few µs for SQLite to answer it. The few reads that every page or
every entry of an infusion day makes are written by hand here and in the modules that use
these helpers (the permission check, the live log, the infusions page): each is one statement
that runs the same on SQLite and PostgreSQL, and its values go through Django's own converters,
so that a time is aware and JSON is decoded as a model field would give them. Each has a test
comparing it with the ORM's answer on both databases.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any, TypeVar, cast, overload

from django.db import connection, models

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


_LARGEST_ID = 2**63 - 1  # a bigint: a larger number names no row (and SQLite refuses it)


def row_id(value: Any) -> int | None:
    """The id of a row, from an address or a form: a whole number from 1 to the largest
    bigint; None for anything else (a bool, a fraction, text that is not a number), which
    names no row."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if 0 < number <= _LARGEST_ID else None


def field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The model's field of that name (for ``sql_rows``: a column read as the field reads it)."""
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


def marks(values: Collection[Any] | int) -> str:
    """Parameter marks for an ``IN (...)`` list: one for each of ``values`` (or ``values`` of
    them)."""
    return ", ".join(["%s"] * (values if isinstance(values, int) else len(values)))


def quote(name: str) -> str:
    """A table or column name quoted for the database in use."""
    return connection.ops.quote_name(name)


def sql_rows(
    sql: str, params: Sequence[Any], fields: Sequence[models.Field[Any, Any] | None]
) -> list[list[Any]]:
    """Rows of a raw statement, each column read as the ORM reads its model field (a time is
    aware, JSON is decoded, on either database); a column whose field is None is left as is."""
    converters: list[tuple[int, Any, list[Any]]] = []
    for i, model_field in enumerate(fields):
        if model_field is None:
            continue
        col = model_field.get_col(model_field.model._meta.db_table)
        functions = [
            *connection.ops.get_db_converters(col),
            *cast(Any, model_field).get_db_converters(connection),  # (missing from the stubs)
        ]
        if functions:
            converters.append((i, col, functions))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [list(row) for row in cursor.fetchall()]
    for values in rows:
        for i, col, functions in converters:
            for function in functions:
                values[i] = function(values[i], col, connection)
    return rows


def columns(
    model: type[models.Model], alias: str
) -> tuple[tuple[models.Field[Any, Any], ...], str]:
    """A model's columns (its concrete fields, as the ORM selects them), and the SQL that
    selects them from the table named ``alias``: worked out once per database kind and kept
    (the session and permission reads ask on every page)."""
    return _columns(model, alias, connection.vendor)


@functools.cache
def _columns(
    model: type[models.Model], alias: str, vendor: str
) -> tuple[tuple[models.Field[Any, Any], ...], str]:
    fields = tuple(f for f in model._meta.concrete_fields if isinstance(f, models.Field))
    return fields, ", ".join(f"{alias}.{quote(f.column)}" for f in fields)


def instance(model: type[M], fields: Sequence[models.Field[Any, Any]], values: Sequence[Any]) -> M:
    """A model instance from the values of ``columns(model, …)``, as the ORM builds one (from
    some of its columns only if they are in the model's own order of fields: Django's
    ``from_db`` takes them in that order)."""
    return model.from_db(connection.alias, [f.attname for f in fields], list(values))


class SlicedRows(Sequence[T]):
    """Rows read one slice at a time, for a Django ``Paginator``: a subclass gives its length
    and ``rows(first, last)`` (one statement for rows [first, last) in the sequence's order,
    never empty); an index is read as a slice of one (a negative one from the end, out of range
    an IndexError), a slice with a step one row at a time."""

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, int):
            if index < 0:
                index += len(self)
            if not 0 <= index < len(self):
                raise IndexError(index)
            return self[index : index + 1][0]
        first, last, step = index.indices(len(self))
        if step != 1:
            return [self[i] for i in range(first, last, step)]
        return self.rows(first, last) if last > first else []

    def rows(self, first: int, last: int) -> list[T]:
        raise NotImplementedError
