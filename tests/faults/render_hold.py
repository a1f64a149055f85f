"""A test-only hook, imported by a fault test's worker (``CELERY_IMPORTS``): with
FAULTS_HOLD_DIR set, the first render of a PDF writes its process id to ``started`` in that
folder and waits there, so the test kills the worker while it is rendering, neither before
nor after. Later renders (the run that takes over) go straight through."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery.signals import worker_process_init

STARTED = "started"
HOLD_SECONDS = 120


def announce_first(folder: Path) -> bool:
    """Write this process's id to ``folder/started`` unless another render did; the link
    makes the file appear complete, and only once."""
    draft = folder / f"{STARTED}.{os.getpid()}"
    draft.write_text(str(os.getpid()))
    try:
        os.link(draft, folder / STARTED)
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True


@worker_process_init.connect
def _hold_first_render(**_: object) -> None:
    held = os.environ.get("FAULTS_HOLD_DIR")
    if not held:
        return
    folder = Path(held)
    from agreements.pdf import render

    original = render.render_version

    def render_version(*args: Any, **kwargs: Any) -> Any:
        if announce_first(folder):
            # Killed here by the test; were it not, the render goes on after the hold.
            deadline = time.monotonic() + HOLD_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.05)
        return original(*args, **kwargs)

    render.render_version = render_version
