"""Checkpoints: sealed only when a chain grew, signed, listed to the chain's members."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command

from audit import signing
from audit.models import AuditCheckpoint
from audit.services import checkpoint_seal
from consortia import services
from tests.conftest import World


def test_seal_only_chains_that_grew(world: World) -> None:
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="x")
    first = checkpoint_seal()
    assert {checkpoint.chain for checkpoint in first} == {f"consortium:{world.consortium_a.pk}"}
    assert checkpoint_seal() == [], "nothing grew"
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="y")
    (second,) = checkpoint_seal()
    assert second.size == first[0].size + 1


def test_checkpoint_is_signed_by_the_deployment_key(world: World) -> None:
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="x")
    (checkpoint,) = checkpoint_seal()
    assert checkpoint.key_id == signing.key_id()
    assert signing.verify(checkpoint.note, checkpoint.signature)
    assert not signing.verify(checkpoint.note.replace("\n1\n", "\n2\n"), checkpoint.signature)
    assert checkpoint.note.startswith(f"alliance-audit/consortium:{world.consortium_a.pk}\n1\n")


def test_seal_command(world: World) -> None:
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="x")
    out = StringIO()
    call_command("audit_seal", stdout=out)
    assert "1 chain(s) sealed." in out.getvalue()


def test_checkpoints_api_is_scoped(world: World, api_as: Any) -> None:
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="x")
    services.consortium_update(actor=world.outsider, consortium=world.consortium_b, charter="x")
    checkpoint_seal()
    mine = api_as(world.observer).get("/api/v1/audit/checkpoints/").json()["results"]
    assert [row["consortium_id"] for row in mine] == [world.consortium_a.pk]
    assert (
        api_as(world.outsider)
        .get(f"/api/v1/audit/checkpoints/?consortium={world.consortium_a.pk}")
        .json()["results"]
        == []
    )
    other = AuditCheckpoint.objects.get(consortium_id=world.consortium_b.pk)
    assert api_as(world.observer).get(f"/api/v1/audit/checkpoints/{other.pk}/").status_code == 404
    key = api_as(world.observer).get("/api/v1/audit/public-key/").json()
    assert key["key_id"] == signing.key_id()
    assert key["algorithm"] == "Ed25519"
    assert api_as(None).get("/api/v1/audit/public-key/").status_code == 401
