"""Sessions in the database, as Django's own database store keeps them, read in one
hand-written statement.

Every page a signed-in person opens starts by reading their session; through the ORM that read
costs about ten times what the database takes to answer it (``ivig.web.sql``). This store is
Django's ``sessions.backends.db`` store (same table, same rows, same expiry rule: a session
whose expiry date has passed is not read) with only that read replaced;
tests/web/test_sessions.py checks it against Django's store on both databases."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from ivig.web import sql


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        fields, columns = sql.columns(model, "s")
        q = sql.quote
        rows = sql.sql_rows(
            f"SELECT {columns} FROM {q(model._meta.db_table)} s "
            f"WHERE s.{q('session_key')} = %s AND s.{q('expire_date')} > %s",
            [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            fields,
        )
        if not rows:  # no such session, or it has expired: as Django's store, a new one
            self._session_key = None
            return None
        return sql.instance(model, fields, rows[0])
