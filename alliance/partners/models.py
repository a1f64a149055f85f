"""A partner client: an OAuth2 application that belongs to an organisation, not to a person.

Each client acts through an account of its own in that organisation, so the access policy
treats it exactly like a person of the organisation (the roles a chair gives it, nothing
more), narrowed to the consortia and scopes its organisation's admins chose.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings

from consortia.models import Consortium, Organisation


class PartnerClient(models.Model):
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.PROTECT, related_name="partner"
    )
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="partner_client",
        help_text="Whom the access policy sees when the client calls the API.",
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partner_clients"
    )
    name = models.CharField(max_length=100)
    consortia = models.ManyToManyField(Consortium, related_name="+")
    scopes = models.JSONField(default=list)
    allowed_networks = models.JSONField(
        default=list, blank=True, help_text="CIDR blocks the client may call from; empty: any."
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                name="partner_client_name_unique_per_organisation",
                violation_error_message="This organisation already has a client of that name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (API client of {self.organisation})"

    @property
    def client_id(self) -> str:
        return str(self.application.client_id)

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"

    def admits(self, address: str | None) -> bool:
        """May the client call from ``address``? Unknown addresses are refused when the
        client is restricted at all."""
        if not self.allowed_networks:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(block) for block in self.allowed_networks)

    def refusal(self, now: datetime, address: str | None) -> str | None:
        """Why the client may not be used now from ``address``, or None."""
        status = self.status(now)
        if status != "active":
            return f"The client is {status}."
        if not self.admits(address):
            return "The client may not be used from this address."
        return None
