from django.apps import AppConfig


class SsoConfig(AppConfig):
    """Single sign-on: each organisation's own OpenID Connect provider, and who it may sign in."""

    name = "alliance.sso"
    label = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"
