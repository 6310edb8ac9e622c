"""A strict Content-Security-Policy with nothing inline, and no caching of health data.

Every template is scanned for inline script or style (the CSP would block it in the browser);
the authorization matrix (test_authorization_matrix.py) also checks every page it renders.
Patient pages, PDFs, CSV and calendar files are sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivig.web.headers import CONTENT_SECURITY_POLICY

SRC = Path(__file__).resolve().parents[2] / "src" / "ivig"
INLINE = re.compile(
    # a <script> without src runs inline, unless it is data (type="application/json")
    r"<style\b|\sstyle\s*=|<script(?![^>]*\b(?:src=|type=[\"']application/(?:ld\+)?json))[^>]*>"
    r"|\son[a-z]+\s*=\s*[\"']|javascript:",
    re.IGNORECASE,
)
# Templates rendered only into a PDF by WeasyPrint, never served to a browser (no CSP there).
PDF_ONLY = {"infusions/templates/infusions/summary_pdf.html"}


def inline_code(html: str) -> list[str]:
    """Inline script or style in a page or template (what the CSP refuses)."""
    return [html[max(0, m.start() - 30): m.end() + 30] for m in INLINE.finditer(html)]


def test_the_policy_is_strict():
    for directive in ("script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_no_template_has_inline_script_or_style():
    found = {}
    for path in sorted(SRC.rglob("*.html")):
        relative = path.relative_to(SRC / "web").as_posix() if "web" in path.parts else str(path)
        if relative in PDF_ONLY:
            continue
        hits = inline_code(path.read_text(encoding="utf-8"))
        if hits:
            found[relative] = hits
    assert found == {}


def test_the_scanner_finds_inline_code():
    assert inline_code('<p style="color: red">') and inline_code("<script>alert(1)</script>")
    assert inline_code("<style>p {}</style>") and inline_code('<a onclick="x()">')
    assert not inline_code('<script src="/static/x.js" defer></script><p class="style">')
    assert not inline_code('<script type="application/json" id="settings">{"a": 1}</script>')


@pytest.mark.django_db
def test_pages_carry_the_policy_and_health_data_is_not_cached(client, world):
    from tests.core import builders
    from tests.web.test_care_checkins import approve_document

    approve_document(world, builders.document())
    client.force_login(world.caregiver)
    patient = world.patient.pk
    urls = [
        f"/patients/{patient}/",
        f"/patients/{patient}/history/",
        f"/patients/{patient}/infusions/summary.csv",
        f"/patients/{patient}/calendar.ics",
        f"/patients/{patient}/plans/{world.plan.pk}/pdf/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert "no-store" in response["Cache-Control"], url
    page = client.get(f"/patients/{patient}/").content.decode()
    assert inline_code(page) == []
    static = client.get("/static/ivig/site.css")
    assert "no-store" not in static.get("Cache-Control", "")
