from django.apps import AppConfig


class ConsortiaConfig(AppConfig):
    """Jurisdictions, organisations, consortia, memberships, roles and the access policy."""

    name = "consortia"
    verbose_name = "Consortia"
    default_auto_field = "django.db.models.BigAutoField"
