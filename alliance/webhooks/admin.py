"""Operators see the webhooks configuration and delivery log; changes go through the pages
and the API (services audit them), so the admin is read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from alliance.webhooks.models import Attempt, Destination, Endpoint, Message


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ("url", "organisation", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "host")
    exclude = ("secret_encrypted", "previous_secret_encrypted")


@admin.register(Destination)
class DestinationAdmin(ReadOnlyAdmin):
    list_display = ("host", "port", "consortium", "approved_by", "created_at")
    search_fields = ("host",)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("webhook_id", "endpoint", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
    search_fields = ("webhook_id",)
    raw_id_fields = ("endpoint", "event")


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ("message", "number", "status_code", "delivered", "started_at")
    raw_id_fields = ("message",)
