from django.apps import AppConfig


class UnauditedConfig(AppConfig):
    """For measuring only: the same application with audit recording replaced by a no-op,
    so `make bench` can put a price on auditing a write. Never installed outside bench/."""

    name = "bench.unaudited"
    label = "bench_unaudited"

    def ready(self) -> None:
        from consortia import services

        def not_recorded(**kwargs: object) -> None:
            return None

        setattr(services, "audit_record", not_recorded)  # noqa: B010 - the module attribute the services call
