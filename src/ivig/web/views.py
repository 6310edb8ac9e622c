"""Site-wide views: health check and static files."""

from __future__ import annotations

from django.contrib.staticfiles.views import serve as staticfiles_serve
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.templatetags.static import static as static_url
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
    """A static file found in the apps' static folders, for files WhiteNoise has not collected
    (tests and development checkouts, where names are not hashed). ``ivig serve`` collects them,
    and WhiteNoise answers before this view is reached (docs/web.md "Static files")."""
    response = staticfiles_serve(request, path, insecure=True)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers that ask for /favicon.ico before reading the page's <link rel="icon">."""
    response = HttpResponseRedirect(static_url("ivig/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
