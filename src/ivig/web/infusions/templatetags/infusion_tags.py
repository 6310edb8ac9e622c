"""``{% infusion_links patient %}``: the infusion block of the patient page (links and overdue
check-ins). The patient page has already passed ``ivig.web.access``."""

from __future__ import annotations

from typing import Any

from django import template

from ivig.web.infusions.records import overdue_on_patient_page

register = template.Library()


@register.inclusion_tag("infusions/_patient_links.html")
def infusion_links(patient: Any) -> dict[str, Any]:
    overdue, more = overdue_on_patient_page(patient)
    return {"patient": patient, "overdue": overdue, "more_overdue": more}
