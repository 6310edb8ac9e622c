"""Logs without secrets, and one line per refused request (issue 10).

- Password-reset links (``/accounts/reset/<uid>/<token>/``) and invitation links
  (``/invite/<token>/``) are bearer secrets: every log line the app or gunicorn writes has them
  replaced by ``[redacted]`` (:func:`redact`; the access log through :class:`GunicornLogger`,
  Django's own records through :class:`RedactSecrets`, a filter on the console handler).
- A refused request (403) is logged by Django with the exception's traceback;
  :class:`RefusedOneLine`
  keeps the one line ("Forbidden (Permission denied): /path") and drops the traceback.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

_SECRET_PATHS = (
    re.compile(r"(/accounts/reset/)[^/\s?#\"']+/[^/\s?#\"']+"),
    re.compile(r"(/invite/)[^/\s?#\"']+"),
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The text with every secret path segment replaced."""
    for pattern in _SECRET_PATHS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrite a record's message with the secrets taken out (arguments are formatted first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RefusedOneLine(logging.Filter):
    """A 403 is an expected answer, not an error: its record loses the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with secrets taken out of the request line, path, query and referrer."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{referer}i", "{raw_uri}e", "{path_info}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
