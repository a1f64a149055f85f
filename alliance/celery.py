"""The Celery application: configured from Django settings (``CELERY_*``), tasks autodiscovered."""

import os

from celery import Celery
from celery.signals import worker_process_init

from alliance.observability import worker as observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")

app = Celery("alliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Worker heartbeats for /readyz; request ids, task log context and task metrics (signals).
observability.install(app)


@worker_process_init.connect
def _load_renderer(**_: object) -> None:
    """Import WeasyPrint (Pango, fonts) once per worker process, not inside the first
    render; processes are recycled after --max-tasks-per-child tasks, which also bounds the
    memory WeasyPrint accumulates over long runs."""
    import agreements.pdf.render  # noqa: F401
