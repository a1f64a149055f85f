"""COPY's fast column values (alliance.copy_insert.db_values) are exactly what Django's own
``get_db_prep_save`` gives, for every column of the rows a sweep writes in bulk."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_init

from alliance.copy_insert import _plain_attributes, db_values, new_instance
from audit.models import AuditEvent
from compute.compliance.models import Finding

AWARE = datetime.datetime(2026, 6, 2, 9, 30, tzinfo=datetime.UTC)


def _as_django_writes(field: Any, instance: Model) -> Any:
    return field.get_db_prep_save(field.pre_save(instance, True), connection)


def _comparable(value: Any) -> tuple[type, Any]:
    # psycopg's Jsonb wrapper has no equality of its own: compare what it wraps.
    return type(value), getattr(value, "obj", value)


ROWS: list[Model] = [
    Finding(
        id=7,
        consortium_id=3,
        job_id=11,
        owner_id=5,
        key="k" * 64,
        code="SITE_NOT_APPROVED",
        severity="high",
        subject={"type": "site", "id": 4, "display": "Paris (FR)"},
        message="tab\there, é",
        expected="",
        actual="x",
        source=None,
        status=Finding.Status.OPEN,  # an enum member, not a plain str: Django's path
        opened_at=AWARE,
        last_seen_at=AWARE.replace(tzinfo=None),  # naive: Django's path warns
    ),
    Finding(consortium_id=3, placement_id=2, owner_id=5, source={"clause_id": 1}, note="n"),
    AuditEvent(
        id=9,
        chain="consortium:3",
        sequence=12,
        occurred_at=AWARE,
        consortium_id=3,
        actor_kind="system",
        action="create",
        changes='{"a":1}',
        client_address=None,
        prev_hash="0" * 64,
        hash="f" * 64,
    ),
    AuditEvent(chain="platform", sequence=1, occurred_at=AWARE, client_address="10.0.0.1"),
    AuditEvent(chain="platform", sequence=2, occurred_at=AWARE, client_address="2001:0DB8::0001"),
]


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@pytest.mark.parametrize("instance", ROWS, ids=lambda row: type(row).__name__)
def test_every_column_is_what_django_would_write(instance: Model) -> None:
    for field in instance._meta.concrete_fields:
        fast = db_values(field, connection)(instance)
        assert _comparable(fast) == _comparable(_as_django_writes(field, instance)), field.name


def _state_of(instance: Model) -> dict[str, Any]:
    attributes = {name: value for name, value in vars(instance).items() if name != "_state"}
    return {**attributes, "adding": instance._state.adding, "db": instance._state.db}


VALUES: list[tuple[type[Model], dict[str, Any]]] = [
    (Finding, {"consortium_id": 3, "job_id": 11, "owner_id": 5, "key": "k", "subject": {}}),
    (AuditEvent, {"chain": "platform", "sequence": 1, "occurred_at": AWARE, "changes": "{}"}),
]


@pytest.mark.parametrize(
    ("model", "values"), VALUES, ids=lambda value: getattr(value, "__name__", "")
)
def test_a_new_instance_is_the_one_django_builds(
    model: type[Model], values: dict[str, Any]
) -> None:
    assert _plain_attributes(model)  # filled in directly, not through __init__
    built = new_instance(model, values)
    assert type(built) is model
    assert _state_of(built) == _state_of(model(**values))
    assert vars(built)["source" if model is Finding else "client_address"] is None


def test_a_model_someone_listens_to_is_built_by_django() -> None:
    heard: list[Model] = []

    def listener(sender: type[Model], instance: Model, **kwargs: Any) -> None:
        heard.append(instance)

    post_init.connect(listener, sender=Finding)
    try:
        built = new_instance(Finding, {"key": "k"})
    finally:
        post_init.disconnect(listener, sender=Finding)
    assert heard == [built]
    new_instance(Finding, {"key": "k"})  # nobody listens any more: built directly
    assert heard == [built]
