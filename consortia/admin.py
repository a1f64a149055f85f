"""Django admin for operators.

Reference data and the consortium domain are read-only here: changes to consortia, members
and roles go through the application (and its services), where the rules and the audit
trail apply. Organisations are registered here through the same services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from alliance.admin import ReadOnlyAdmin
from alliance.auth import acting_user
from alliance.errors import ConflictError
from consortia import services
from consortia.models import (
    Consortium,
    Jurisdiction,
    JurisdictionMembership,
    Membership,
    Organisation,
    PartnershipModel,
    RoleAssignment,
    User,
)


class JurisdictionMembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = JurisdictionMembership
    fk_name = "bloc"
    extra = 0
    can_delete = False
    readonly_fields = ("member", "joined_on", "left_on")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Jurisdiction)
class JurisdictionAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    inlines = [JurisdictionMembershipInline]


@admin.register(PartnershipModel)
class PartnershipModelAdmin(ReadOnlyAdmin):
    list_display = ("name", "legal_framework_complexity", "time_to_operationalize", "key_risk")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "kind", "home_jurisdiction", "registration_id")
    list_filter = ("kind",)
    search_fields = ("name", "registration_id")
    autocomplete_fields = ("home_jurisdiction",)
    fields = services.ORGANISATION_FIELDS

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in services.ORGANISATION_FIELDS}
        if change:
            services.organisation_update(actor=acting_user(request), organisation=obj, **fields)
        else:
            created = services.organisation_create(actor=acting_user(request), **fields)
            obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Organisation) -> None:
        try:
            services.organisation_delete(actor=acting_user(request), organisation=obj)
        except ConflictError as refusal:
            messages.error(request, refusal.message)


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    can_delete = False
    fields = readonly_fields = ("organisation", "status", "voting_weight", "joined_on", "left_on")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Consortium)
class ConsortiumAdmin(ReadOnlyAdmin):
    list_display = ("name", "partnership_model", "home_jurisdiction", "status", "created_at")
    list_filter = ("status", "partnership_model")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("consortium", "organisation", "status", "voting_weight", "joined_on")
    list_filter = ("status",)
    search_fields = ("consortium__name", "organisation__name")
    list_select_related = ("consortium", "organisation")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("consortium", "user", "role", "assigned_at")
    list_filter = ("role",)
    search_fields = ("consortium__name", "user__username")
    list_select_related = ("consortium", "user")


@admin.register(User)
class AllianceUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = (
        "username",
        "email",
        "organisation",
        "is_organisation_admin",
        "is_staff",
        "is_active",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "is_organisation_admin")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        ("Organisation", {"fields": ("organisation", "is_organisation_admin")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("Organisation", {"fields": ("organisation", "is_organisation_admin")}),
    )
