"""Password rules beyond Django's own validators (settings.AUTH_PASSWORD_VALIDATORS).

Django checks similarity to the account's name and email, the 20,000 most common passwords,
a minimum length and all-digit passwords. These add what the issue 10 probe got through:
a maximum length (a 5,000-character password costs the server a slow hash for nothing),
passwords of one or two repeated characters ("zzzzzzzzzz", ten spaces) and passwords made of
this program's own words ("ivigivigivig", "infusion2024"). Limits are design choices.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 4
SITE_WORDS = ("ivig", "igiv", "immunoglobulin", "inmunoglobulina", "infusion", "infusión")


class MaximumLengthValidator:
    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("This password is too long: at most %(max)d characters.")
                % {"max": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("At most %(max)d characters.") % {"max": self.max_length}


class VarietyValidator:
    """Refuse passwords of a few repeated characters, and passwords made of site words."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(set(password)) < MIN_DISTINCT_CHARACTERS:
            raise ValidationError(
                _("This password repeats too few characters: use at least %(n)d different ones.")
                % {"n": MIN_DISTINCT_CHARACTERS},
                code="password_too_repetitive",
            )
        rest = password.lower()
        for word in SITE_WORDS:
            rest = rest.replace(word, "")
        if len(re.sub(r"[\d\s\W_]", "", rest)) < MIN_DISTINCT_CHARACTERS:
            raise ValidationError(
                _("This password is mostly the name of this program or of the medicine."),
                code="password_site_words",
            )

    def get_help_text(self) -> str:
        return _("Not a few repeated characters, not the name of the medicine.")
