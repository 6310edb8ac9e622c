from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InfusionsConfig(AppConfig):
    name = "ivig.web.infusions"
    label = "infusions"
    verbose_name = _("Infusions")
