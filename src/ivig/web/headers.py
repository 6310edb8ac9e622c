"""Response headers every page gets (issue 10): a strict Content-Security-Policy, and
``Cache-Control: no-store`` on everything that is not a static file.

CSP: scripts, styles, images, fonts and fetches come from this site only; no inline script, no
inline style (no ``style="..."`` attribute, no ``<style>`` block: every template uses the static
.css/.js files of its app), no plugins, no framing, forms post here only. A test renders every
page and scans every template for inline code (tests/web/test_headers.py).

no-store: patient pages, PDFs, CSV and calendar files hold health data; a shared computer's
browser or a proxy must not keep a copy. Static files keep their own caching headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
NO_STORE = "no-store"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if not request.path.startswith(settings.STATIC_URL):
            cache = response.get("Cache-Control", "")
            if "no-store" not in cache:
                response["Cache-Control"] = NO_STORE
        return response
