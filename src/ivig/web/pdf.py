"""PDFs of printouts (WeasyPrint): one helper for every printout and family sheet.

Pages carry no inline style (the Content-Security-Policy forbids it), so a PDF is styled by the
same static stylesheets the printout links on screen, passed here by name, in order."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse


def pdf_response(html: str, filename: str, *stylesheets: str) -> HttpResponse:
    """The printout ``html`` as a PDF download named ``filename``, styled by ``stylesheets``
    (static file names such as "plans/print.css")."""
    from weasyprint import CSS, HTML  # heavy: import only when a PDF is asked for

    sheets = []
    for name in stylesheets:
        path = finders.find(name)
        if not isinstance(path, str):
            raise ImproperlyConfigured(f"printout stylesheet not found: {name}")
        sheets.append(CSS(filename=path))
    pdf = HTML(string=html).write_pdf(stylesheets=sheets)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
