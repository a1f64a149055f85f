from __future__ import annotations

from django.contrib import admin

from alliance.admin import ReadOnlyAdmin
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the database refuses changes to events anyway."""

    list_display = (
        "occurred_at",
        "chain",
        "sequence",
        "actor_display",
        "action",
        "object_display",
        "outcome",
    )
    list_filter = ("action", "outcome", "actor_kind")
    search_fields = ("actor_display", "object_display", "request_id")
    ordering = ("-occurred_at",)
