"""WSGI entry point: ``gunicorn ivig.web.wsgi`` (``ivig serve`` does this for you)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivig.web.settings")

application = get_wsgi_application()
