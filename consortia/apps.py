from django.apps import AppConfig


class ConsortiaConfig(AppConfig):
    """Jurisdictions, organisations, consortia, memberships, roles and the access policy."""

    name = "consortia"
    verbose_name = "Consortia"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # audit depends on no other app; the consortium domain tells it who reads which chain.
        from audit import policy
        from consortia.audit_access import ConsortiumChainAccess

        policy.register(ConsortiumChainAccess())

        from consortia import (
            meeting_services,  # noqa: F401 - registers approving minutes
            panels,
        )
        from consortia.governance import effects  # noqa: F401 - registers the membership effects
        from consortia.governance.views import consortium_panel

        panels.register("motions", "consortia/motions_panel.html", consortium_panel)

        from consortia import waiting
        from consortia.governance.waiting import motions_to_vote_on

        waiting.register("motions", motions_to_vote_on)

        from consortia import health

        panels.register("health", "consortia/health_panel.html", health.consortium_panel)

        from consortia import planning_views

        panels.register(
            "planning", "consortia/planning_panel.html", planning_views.consortium_panel
        )
