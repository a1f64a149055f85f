"""Shared fixtures: the personas every permission test uses, after healthchecks' alice/bob/charlie.

Consortium A has two active members: the chair's organisation and a second one. In A:
``chair`` (may do everything), ``member`` (a steering-committee member, may read),
``observer`` (read-only role), ``auditor`` (reads the whole audit chain). ``outsider`` chairs consortium B and sees nothing of A.
``candidate`` belongs to an organisation in no consortium, available to invite.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from compute.compliance.models import Decision
from consortia.models import Consortium, Membership, Organisation, Role, RoleAssignment, User
from tests.consortia.factories import (
    ConsortiumFactory,
    MembershipFactory,
    OrganisationFactory,
    RoleAssignmentFactory,
    UserFactory,
)

pytest_plugins = ("celery.contrib.pytest",)

# Data migrations load reference data (jurisdictions, partnership models). A transactional
# test ends with a flush that empties every table, so that data is put back before each
# transactional test, and at session start in case the last session ended with a flush.
REFERENCE_DATA: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("consortia.Jurisdiction", ("consortia.migrations.0002_jurisdictions",)),
    ("consortia.PartnershipModel", ("consortia.migrations.0003_partnership_models",)),
    ("agreements.ClauseTemplate", ("agreements.migrations.0003_clause_library",)),
    (
        "compute.TransferBasis",
        (
            "compute.migrations.0003_transfer_bases",
            "compute.migrations.0007_uk_adequacy_renewed",
        ),
    ),
)


def ensure_reference_data() -> None:
    from django.apps import apps

    for label, modules in REFERENCE_DATA:
        if not apps.get_model(label)._default_manager.exists():
            for module in modules:
                importlib.import_module(module).load(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.fixture(scope="session", autouse=True)
def demo_signing_keys() -> None:
    """The demo CA that seals executed PDFs, in this session's scratch folder."""
    from agreements.pdfsign.keys import create_demo_ca

    create_demo_ca(settings.SIGNING_DEMO_DIR)


@pytest.fixture
def committed_db(transactional_db: Any) -> Iterator[None]:
    """Transactional database access (real workers, a live server, concurrency), with the
    reference data. On SQLite the flush that ends such a test DELETEs every row, which the
    audit tables' triggers refuse, so they step aside for it and come back for the next test.
    """
    from tests.audit.helpers import sqlite_triggers

    ensure_reference_data()
    if connection.vendor == "sqlite":
        sqlite_triggers(present=True)
    yield
    if connection.vendor == "sqlite":
        sqlite_triggers(present=False)


@dataclass
class World:
    consortium_a: Consortium
    consortium_b: Consortium
    org_chair: Organisation
    org_member: Organisation
    org_outsider: Organisation
    org_candidate: Organisation
    membership_chair: Membership
    membership_member: Membership
    chair: User
    member: User
    observer: User
    auditor: User
    outsider: User
    candidate: User
    member_role: RoleAssignment
    observer_role: RoleAssignment

    def persona(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


def unsaved_decision(world: World, **overrides: Any) -> Decision:
    """A compliance decision of consortium A by its member, not stored: what the gate writes,
    for tests of how rows are written (``alliance.compiled``, ``audit_record_inserting``)."""
    now = world.consortium_a.created_at
    fields: dict[str, Any] = {
        "consortium": world.consortium_a,
        "outcome": "allow",
        "rules_digest": "0" * 64,
        "evaluated_for": now,
        "decided_at": now,
        "decided_by": world.member,
        **overrides,
    }
    return Decision(**fields)


@pytest.fixture
def world(db: Any) -> World:
    org_chair = OrganisationFactory.create(name="Chair Org", home_jurisdiction_id="FR")
    org_member = OrganisationFactory.create(name="Member Org", home_jurisdiction_id="DE")
    org_outsider = OrganisationFactory.create(name="Outsider Org", home_jurisdiction_id="SA")
    org_candidate = OrganisationFactory.create(name="Candidate Org", home_jurisdiction_id="NL")
    consortium_a = ConsortiumFactory.create(name="Consortium A")
    consortium_b = ConsortiumFactory.create(
        name="Consortium B", partnership_model_id="federated_learning", home_jurisdiction_id="GCC"
    )
    membership_chair = MembershipFactory.create(
        consortium=consortium_a, organisation=org_chair, is_founding=True
    )
    membership_member = MembershipFactory.create(consortium=consortium_a, organisation=org_member)
    MembershipFactory.create(consortium=consortium_b, organisation=org_outsider, is_founding=True)
    chair = UserFactory.create(username="chair", organisation=org_chair, is_organisation_admin=True)
    member = UserFactory.create(username="member", organisation=org_member)
    observer = UserFactory.create(username="observer", organisation=org_member)
    auditor = UserFactory.create(username="auditor", organisation=org_member)
    outsider = UserFactory.create(
        username="outsider", organisation=org_outsider, is_organisation_admin=True
    )
    candidate = UserFactory.create(
        username="candidate", organisation=org_candidate, is_organisation_admin=True
    )
    RoleAssignmentFactory.create(consortium=consortium_a, user=chair, role=Role.CHAIR)
    member_role = RoleAssignmentFactory.create(
        consortium=consortium_a, user=member, role=Role.STEERING_MEMBER
    )
    observer_role = RoleAssignmentFactory.create(
        consortium=consortium_a, user=observer, role=Role.OBSERVER
    )
    RoleAssignmentFactory.create(consortium=consortium_a, user=auditor, role=Role.AUDITOR)
    RoleAssignmentFactory.create(consortium=consortium_b, user=outsider, role=Role.CHAIR)
    return World(
        consortium_a=consortium_a,
        consortium_b=consortium_b,
        org_chair=org_chair,
        org_member=org_member,
        org_outsider=org_outsider,
        org_candidate=org_candidate,
        membership_chair=membership_chair,
        membership_member=membership_member,
        chair=chair,
        member=member,
        observer=observer,
        auditor=auditor,
        outsider=outsider,
        candidate=candidate,
        member_role=member_role,
        observer_role=observer_role,
    )


@pytest.fixture(scope="session")
def celery_config() -> Mapping[str, Any]:
    return {
        "broker_url": settings.TEST_REDIS_URL,
        "result_backend": settings.TEST_REDIS_URL,
        "task_always_eager": False,
        "task_ignore_result": False,
        # A queue of this run's own, so a developer's worker on the same Redis cannot take it.
        "task_default_queue": f"alliance-test-{uuid.uuid4().hex}",
        "broker_connection_retry_on_startup": True,
    }


@pytest.fixture
def celery_app(celery_app: Any) -> Any:
    """celery.contrib.pytest's test app, with the bootsteps alliance.celery adds to the
    project's app (the worker heartbeat that /readyz reads)."""
    from alliance.observability.worker import install

    install(celery_app)
    return celery_app


@pytest.fixture(scope="session")
def celery_includes() -> list[str]:
    return [
        "celery.contrib.testing.tasks",
        "consortia.tasks",
        "agreements.tasks",
        "compute.tasks",
        "alliance.webhooks.tasks",
    ]


@pytest.fixture
def api_as() -> Callable[[User | None], APIClient]:
    """An API client signed in as ``user`` (session auth), or anonymous for None."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def browser_as() -> Callable[[User | None], Client]:
    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def domain_state() -> tuple[Any, ...]:
    """Every row of the domain and every successful audit event but sign-ins: a denial must
    leave all of it as it was (it adds only its own ``denied`` event)."""
    from agreements.models import (
        Agreement,
        AgreementExport,
        AgreementVersion,
        Approval,
        Clause,
        Party,
        Signature,
        SignedDocument,
    )
    from compute import models as compute
    from compute.compliance.models import Placement
    from consortia.models import Motion, MotionVoter, Proxy, Vote

    models = (
        Organisation,
        Consortium,
        Membership,
        RoleAssignment,
        Motion,
        MotionVoter,
        Vote,
        Proxy,
        Agreement,
        Party,
        AgreementVersion,
        Clause,
        Approval,
        Signature,
        SignedDocument,
        AgreementExport,
        compute.Provider,
        compute.Site,
        compute.Approval,
        compute.Pool,
        compute.CapacityChange,
        compute.Contribution,
        compute.AllocationRequest,
        compute.Reservation,
        compute.UsageRecord,
        compute.Loan,
        compute.FairShareAlert,
        compute.Job,
        compute.Decision,
        Placement,
    )
    return (
        *(list(model.objects.order_by("pk").values()) for model in models),
        list(
            AuditEvent.objects.filter(outcome="success")
            .exclude(action__in=["login", "logout", "view", "list"])  # reads change nothing
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
    )


@pytest.fixture
def unchanged() -> Callable[[], Any]:
    """``with unchanged(): ...`` asserts that nothing in the domain changed inside."""
    from contextlib import contextmanager

    @contextmanager
    def check() -> Any:
        before = domain_state()
        try:
            yield
        finally:
            # Also when the block raises: `with pytest.raises(...), unchanged():` must check too.
            assert domain_state() == before, "a denied or invalid request changed the database"

    return check


requires_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (set DATABASE_URL)",
)
requires_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)"
)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"
