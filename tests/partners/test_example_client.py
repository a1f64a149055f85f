"""docs/examples/partner_client.py, run end to end against a live server: a client of the
chair's organisation obtains a token, lists agreements and reports usage (twice, as a retry
would: recorded once)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from alliance.partners import services
from compute.models import UsageRecord
from consortia.models import Role
from tests.agreements.conftest import make_deal
from tests.compute.conftest import make_grid
from tests.consortia.factories import RoleAssignmentFactory
from tests.partners.conftest import terms

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "partner_client.py"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("partner_client", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own example, run as a partner would
        [sys.executable, str(EXAMPLE), *arguments],
        env={**env, "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_example_client_end_to_end(
    committed_db: None,  # first: it restores the reference data the world needs
    world: Any,
    live_server: Any,
    tmp_path: Path,
) -> None:
    grid = make_grid(world)
    deal = make_deal(world)
    partner, secret = services.client_create(
        actor=world.chair,
        organisation=world.org_chair,
        terms=terms([world.consortium_a], ["agreements:read", "compute:read", "usage:write"]),
    )
    RoleAssignmentFactory.create(
        consortium=world.consortium_a, user=partner.account, role=Role.TECHNICAL
    )
    env = {
        "ALLIANCE_URL": live_server.url,
        "ALLIANCE_CLIENT_ID": partner.client_id,
        "ALLIANCE_CLIENT_SECRET": secret,
    }
    listed = run(env, "agreements")
    assert listed.returncode == 0, listed.stderr
    assert f"{deal.agreement.pk}\tdraft\tModel co-development agreement" in listed.stdout

    report = tmp_path / "usage.csv"
    report.write_text(
        f"organisation,site,day,gpu_hours\n{world.org_chair.pk},Paris-1,2026-11-02,12.5\n"
    )
    for _ in range(2):
        posted = run(env, "usage", str(grid.pool.pk), str(report))
        assert posted.returncode == 0, posted.stderr
        assert '"rows": 1' in posted.stdout
    assert UsageRecord.objects.filter(pool=grid.pool).count() == 1

    refused = run({**env, "ALLIANCE_CLIENT_SECRET": "wrong"}, "agreements")
    assert refused.returncode == 1
    assert "invalid_client" in refused.stderr


def test_the_verifier_refuses_unsigned_tampered_stale_and_replayed_deliveries() -> None:
    import base64
    import hashlib
    import hmac

    client = example()
    key = b"0123456789abcdef0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    body = b'{"type":"agreement.executed"}'
    now = 1_800_000_000

    def signed(message_id: str, timestamp: int, payload: bytes) -> dict[str, str]:
        content = f"{message_id}.{timestamp}.".encode() + payload
        digest = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,bm90LXRoaXMtb25l v1,{digest}",
        }

    verifier = client.WebhookVerifier(secret)
    assert verifier.verify(signed("msg_1", now, body), body, now=now) == {
        "type": "agreement.executed"
    }
    refusals = {
        "unsigned": ({"webhook-id": "msg_2"}, body),
        "does not match": (signed("msg_3", now, body), body + b" "),
        "too old": (signed("msg_4", now - 600, body), body),
        "replayed": (signed("msg_1", now, body), body),
    }
    for reason, (headers, payload) in refusals.items():
        with pytest.raises(client.WebhookVerificationError, match=reason):
            verifier.verify(headers, payload, now=now)
