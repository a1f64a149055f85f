from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    """Agreements, versions, clauses, IP assets, datasets and their data-usage terms."""

    name = "agreements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agreements.dashboard_views import consortium_panel
        from consortia import panels

        panels.register("agreements", "agreements/panel.html", consortium_panel)

        from agreements import waiting as agreement_waiting
        from consortia import waiting

        waiting.register("agreements", agreement_waiting.for_person)

        from agreements.services import steering_approval_by_motion
        from consortia.governance import effects

        effects.register("approve_agreement", steering_approval_by_motion)

        from agreements import health as agreement_health
        from consortia import health

        health.register("legal_framework", agreement_health.legal_framework)
        health.register("datasets_without_terms", agreement_health.datasets_without_terms)
