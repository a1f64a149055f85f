import ipaddress

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def check_settings() -> None:
    """Stop start-up on a network that is not one, naming the variable (as settings do)."""
    for network in settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"WEBHOOK_ALLOWED_PRIVATE_NETWORKS entry {network!r} is not a network such as "
                "10.0.0.0/8."
            ) from None


class WebhooksConfig(AppConfig):
    """Signed outgoing webhooks: endpoints, the consortium allow-list, delivery and its log."""

    name = "alliance.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        check_settings()

        # Events come from the audit chain: every domain write records one in its
        # transaction, so listening there covers every service, and audit imports nothing
        # of ours (the hook is registered from here).
        from alliance.webhooks import services
        from audit import services as audit_services

        audit_services.on_recorded(services.audit_recorded)

        from alliance.webhooks import views
        from consortia import panels

        panels.register("webhooks", "webhooks/panel.html", views.consortium_panel)
