"""Site-wide views: health check and static files."""

from __future__ import annotations

from django.contrib.staticfiles.views import serve as staticfiles_serve
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers (for a load balancer or a monitoring check)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok\n", content_type="text/plain")


@require_safe
def static(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve a static file from the apps' static folders, also with DEBUG off.

    Trade-off (docs/web.md): no extra dependency and no collectstatic step, at the cost of a
    finder lookup per request and no compression. The files are few and small (our CSS, htmx,
    the admin's). A large site puts a reverse proxy in front that serves STATIC_ROOT after
    ``collectstatic``."""
    response = staticfiles_serve(request, path, insecure=True)
    response["Cache-Control"] = "public, max-age=3600"
    return response
