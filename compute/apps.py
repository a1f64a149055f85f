from django.apps import AppConfig


class ComputeConfig(AppConfig):
    """Providers, sites, capacity pools, allocations, usage and the residency engine."""

    name = "compute"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from compute.compliance import triggers

        triggers.connect()

        from compute import allocations, directory
        from consortia.governance import effects

        effects.register(
            "approve_allocation",
            allocations.approved_by_motion,
            subject=("compute.allocationrequest", allocations.request_under_vote),
            on_failure=allocations.rejected_by_motion,
            vetoes=allocations.dataset_owners,
        )
        effects.register(
            "approve_provider",
            directory.approved_by_motion,
            subject=("compute.provider", directory.motion_subject),
        )

        from compute import health as compute_health
        from consortia import health

        health.register("pool_sites", compute_health.pool_sites)
        health.register("pool_exposures", compute_health.pool_exposures)
        health.register("certifications", compute_health.certifications)
        health.register("fair_share", compute_health.fair_share)
        health.register("capacity_requests_waiting", compute_health.requests_waiting)

        from compute import dashboard_views
        from consortia import panels

        panels.register("compute", "compute/panel.html", dashboard_views.consortium_panel)
        panels.register(
            "compliance", "compute/compliance_panel.html", dashboard_views.compliance_panel
        )

        from compute import waiting as compute_waiting
        from consortia import waiting

        waiting.register("compute", compute_waiting.for_person)
