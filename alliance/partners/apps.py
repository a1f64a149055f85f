from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "alliance.partners"
    label = "partners"
    verbose_name = "Partner clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.partners import openapi  # noqa: F401 - registers the schema extension
