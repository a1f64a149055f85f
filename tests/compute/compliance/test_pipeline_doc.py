"""The pipeline step in docs/pipeline-gate.md, run as written against a live server: it fails
the training run on a deny (exit 1, the reasons on stderr) and lets an allowed one through."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from knox.models import AuthToken

from compute.compliance.models import Decision
from tests.compute.compliance.conftest import Compliance

DOC = Path(__file__).resolve().parents[3] / "docs" / "pipeline-gate.md"


def pipeline_step() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1, "the doc shows one Python step"
    return str(blocks[0])


def job(c: Compliance, action: str) -> dict[str, Any]:
    return {
        "consortium": c.grid.world.consortium_a.pk,
        "datasets": [c.dataset.pk],
        "sites": [c.grid.paris.pk],
        "purpose": "research_and_development",
        "action": action,
        "movement": "federated",
        "output_jurisdiction": "FR",
        "aggregation_site": c.grid.paris.pk,
        "secure_aggregation": True,
        "dp_epsilon": 1.0,
        "starts_at": "2026-12-10T00:00:00Z",
        "ends_at": "2026-12-20T00:00:00Z",
    }


@pytest.mark.parametrize(("action", "exit_code"), [("evaluate", 0), ("copy_raw", 1)])
def test_the_documented_step_fails_the_run_on_deny(
    committed_db: None,  # first: it restores the reference data the world needs
    compliance: Compliance,
    live_server: Any,
    tmp_path: Path,
    action: str,
    exit_code: int,
) -> None:
    _, token = AuthToken.objects.create(user=compliance.grid.technician)
    (tmp_path / "job.json").write_text(json.dumps(job(compliance, action)))
    env = {
        "ALLIANCE_URL": live_server.url,
        "ALLIANCE_TOKEN": token,
        "RUN_ID": f"run-{action}",
        "PATH": "/usr/bin",
    }
    runs = [
        subprocess.run(  # noqa: S603 - the step from our own docs, run as a pipeline would
            [sys.executable, "-c", pipeline_step()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for _ in range(2)  # the run's step retried: same key, same decision
    ]
    for ran in runs:
        assert ran.returncode == exit_code, ran.stderr
        if exit_code:
            assert "ACTION_NOT_PERMITTED" in ran.stderr
    decided = [re.search(r"decision (\d+): (allow|deny)", ran.stdout) for ran in runs]
    assert decided[0] is not None
    assert decided[1] is not None
    assert decided[0].group(1) == decided[1].group(1)
    assert Decision.objects.count() == 1
