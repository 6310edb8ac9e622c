from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "ivig.web.patients"
    label = "patients"
    verbose_name = _("Patients")
