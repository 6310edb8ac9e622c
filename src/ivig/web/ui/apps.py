from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UiConfig(AppConfig):
    """Pages and helpers for people: the "today" page, words and numbers for display, the
    printable comparison and the lot search. No models: it reads the other apps' records."""

    name = "ivig.web.ui"
    label = "ui"
    verbose_name = _("Today and display helpers")
