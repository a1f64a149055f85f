"""``seed_world``: a large world loaded in bulk that the application and audit_verify accept,
the same for the same seed. Tested at the tiny scale; PostgreSQL only, like the loader."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from agreements.models import AgreementVersion, Clause
from alliance.seeding import SIZES
from alliance.seeding.digest import world_digest
from audit.models import AuditEvent
from audit.services import audit_record
from audit.verification import verify
from compute.models import UsageRecord
from consortia.models import Consortium, Organisation, Role, RoleAssignment, User

TINY = SIZES["tiny"]
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="COPY is PostgreSQL's"
)


def seed(*arguments: str) -> str:
    out = StringIO()
    call_command("seed_world", "--scale", "tiny", "--force", *arguments, stdout=out)
    return out.getvalue()


def digest_of_a_seeding(seed_number: int) -> str:
    """Seed, take the digest, and roll the seeding back (ids restart from the same place)."""
    with transaction.atomic():
        seed("--seed", str(seed_number))
        digest = world_digest()
        transaction.set_rollback(True)
    return digest


@postgresql_only
def test_same_seed_same_world_other_seed_other_world(db: Any) -> None:
    first, again, other = (digest_of_a_seeding(number) for number in (7, 7, 8))
    assert first == again
    assert first != other


@postgresql_only
def test_tiny_world_has_its_rows_and_reports_progress(db: Any) -> None:
    output = seed()
    assert Organisation.objects.filter(name__startswith="Nation ").count() == TINY.organisations
    assert User.objects.filter(username__startswith="nation").count() == TINY.users
    assert Consortium.objects.filter(name__startswith="Nation ").count() == TINY.consortia
    assert AgreementVersion.objects.count() == TINY.agreement_versions
    assert UsageRecord.objects.count() == TINY.usage_rows
    assert AuditEvent.objects.exclude(chain="platform").count() == TINY.audit_events
    assert "rows/s" in output
    # Every version that left the draft stage is frozen with a hash and has its clauses.
    frozen = AgreementVersion.objects.exclude(status="draft")
    assert not frozen.filter(content_hash="").exists()
    assert Clause.objects.filter(version__in=frozen).count() == 3 * frozen.count()
    assert RoleAssignment.objects.filter(role=Role.CHAIR).count() >= TINY.consortia


@postgresql_only
def test_seeded_chains_verify_and_the_application_appends_to_them(db: Any) -> None:
    seed()
    consortium = Consortium.objects.filter(name__startswith="Nation ").first()
    assert consortium is not None
    audit_record(action="view", actor=None, consortium_id=consortium.pk, object_type="test")
    # The loader writes each canonical text from pieces; Python's verifier re-hashes every
    # event with audit.canonical itself, and PostgreSQL's with its own recipe.
    for method in ("python", "sql"):
        report = verify(method=method)
        assert report.ok, [str(found) for found in report.breaks]
        assert report.chains == TINY.consortia + 1  # and the platform chain
        assert report.events == TINY.audit_events + 2


@postgresql_only
def test_seeded_people_use_the_application(db: Any) -> None:
    seed()
    chair = RoleAssignment.objects.filter(
        role=Role.CHAIR, user__username__startswith="nation"
    ).first()
    assert chair is not None
    client = Client()
    client.force_login(chair.user)
    assert client.get(f"/consortia/{chair.consortium_id}/").status_code == 200
    version = AgreementVersion.objects.filter(agreement__consortium_id=chair.consortium_id).first()
    assert version is not None
    assert client.get(f"/agreements/{version.agreement_id}/").status_code == 200
    # The ids the loader chose are behind the sequences: the application inserts after them.
    created = Organisation.objects.create(
        name="After the seed", kind="company", home_jurisdiction_id="DE", registration_id="X-1"
    )
    assert created.pk > Organisation.objects.exclude(pk=created.pk).order_by("-pk")[0].pk


@postgresql_only
def test_a_second_seeding_of_the_same_database_is_refused(db: Any) -> None:
    seed()
    with pytest.raises(CommandError, match="already holds a seeded world"):
        seed()


def test_sqlite_is_refused_with_a_reason(db: Any) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the refusal is for databases without COPY")
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed()
