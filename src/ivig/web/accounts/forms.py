from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from ivig.web.accounts.models import CareTeam, Role, User, normalise_email


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an email address (the field keeps Django's name "username")."""

    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_username(self) -> str:
        return normalise_email(self.cleaned_data["username"])


class NewAccountForm(forms.Form):
    """Name, email and a password typed twice: the first account, or one made by an invite."""

    name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 10 characters (at most 128); not only numbers; not a common password."
        ),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                _("An account with this email address already exists. Log in instead.")
            )
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            user = User(email=data.get("email", ""), name=data.get("name", ""))
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data

    def create_user(self, **extra: Any) -> User:
        data = self.cleaned_data
        return User.objects.create_user(
            data["email"], data["password1"], name=data["name"], **extra
        )


def clinical_role_field() -> forms.ChoiceField:
    """The creator of a team manages it (caregiver) and may also hold a clinical role."""
    return forms.ChoiceField(
        label=_("Your clinical role in this team"),
        choices=[
            ("", _("None: I am a parent or family caregiver")),
            ("nurse", _("Nurse")),
            ("prescriber", _("Prescriber (doctor)")),
        ],
        required=False,
        help_text=_(
            "You manage the team either way. A doctor or nurse working alone chooses their role "
            "here, so they can also enter, check or approve plans."
        ),
    )


class FirstAccountForm(NewAccountForm):
    team_name = forms.CharField(
        label=_("Name of your care team"),
        max_length=200,
        help_text=_("For example the child's family name, or the clinic's name."),
    )
    clinical_role = clinical_role_field()


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=200)
    clinical_role = clinical_role_field()


class TeamContactsForm(forms.ModelForm):  # type: ignore[type-arg]
    """The numbers a family calls; shown on every triage result and the going-home sheet."""

    class Meta:
        model = CareTeam
        fields = ["phone_day", "phone_after_hours", "emergency_number"]

    def clean_emergency_number(self) -> str:
        value = str(self.cleaned_data["emergency_number"]).strip()
        if value and not value.replace(" ", "").isdigit():
            raise forms.ValidationError(
                _("Emergency number: only digits, for example 911 or 112. Given: %(value)s"),
                params={"value": value},
            )
        return value


class ProductPriceForm(forms.Form):
    """The team's own price per gram for one product (dated; never built in)."""

    product_id = forms.ChoiceField(label=_("Product"))
    price_per_g = forms.DecimalField(
        label=_("Price per gram"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        help_text=_("Three letters, for example USD, EUR, GBP."),
        error_messages={"invalid": _("Currency: three letters, for example USD.")},
    )
    set_on = forms.DateField(label=_("Price date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from ivig.core.catalogue import load_catalogue

        products = load_catalogue().products.values()
        self.fields["product_id"].choices = [(p.id, p.brand) for p in products]  # type: ignore[attr-defined]

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).upper()


class InviteForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=forms.RadioSelect)
    email = forms.EmailField(
        label=_("Their email address (optional)"),
        required=False,
        help_text=_("If given, the link is also sent to this address."),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
