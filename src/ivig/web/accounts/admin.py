from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from ivig.web.accounts.models import CareTeam, Invite, Membership, User
from ivig.web.admin_base import ClinicalAdmin


class UserCreation(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserChange(UserChangeForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ("email", "name")


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    form = UserChange
    add_form = UserCreation
    ordering = ("email",)
    list_display = ("email", "name", "is_staff", "is_active", "last_login")
    search_fields = ("email", "name")
    fieldsets = (
        (None, {"fields": ("email", "name", "password")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )
    filter_horizontal = ("groups",)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # people who made records stay; deactivate instead


@admin.register(CareTeam)
class CareTeamAdmin(ClinicalAdmin):
    list_display = ("name", "created_at", "archived_at")
    search_fields = ("name",)


@admin.register(Membership)
class MembershipAdmin(ClinicalAdmin):
    list_display = ("user", "team", "role", "archived_at")
    list_filter = ("role",)
    raw_id_fields = ("user", "team")


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("team", "role", "email", "created_at", "expires_at", "used_at", "cancelled_at")
    readonly_fields = ("token_hash", "used_at", "used_by", "created_by")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # invitations are made on the team page, which shows the link once

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
