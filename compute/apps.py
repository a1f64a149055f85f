from django.apps import AppConfig


class ComputeConfig(AppConfig):
    """Providers, sites, capacity pools, allocations, usage and the residency engine."""

    name = "compute"
    default_auto_field = "django.db.models.BigAutoField"
