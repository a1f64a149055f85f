from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only, hash-chained event log. Depends on no other Alliance app."""

    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import signals

        signals.connect()
