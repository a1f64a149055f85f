"""Settings of a Celery worker that a fault test starts as a process of its own.

The test session's settings (its database, signing CA and media folder), with what the test
passes down in ``FAULTS_*`` variables: the queue, the broker's visibility timeout, and the
folders that tests/settings.py would otherwise make afresh in this process.
"""

import os
from pathlib import Path

from tests.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ["FAULTS_QUEUE"]
MEDIA_ROOT = Path(os.environ["FAULTS_MEDIA_ROOT"])
SIGNING_DEMO_DIR = Path(os.environ["FAULTS_SIGNING_DEMO_DIR"])
AUDIT_SIGNING_KEY_PATH = Path(os.environ["FAULTS_AUDIT_SIGNING_KEY_PATH"])
AUDIT_EXPORT_ROOT = Path(os.environ["FAULTS_AUDIT_EXPORT_ROOT"])
# A short timeout lets a test see a dead worker's message come back in seconds; the restore
# sweep then runs every second instead of every ~100 (kombu's interval times its throttle).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("FAULTS_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_IMPORTS = ["tests.faults.render_hold"]
