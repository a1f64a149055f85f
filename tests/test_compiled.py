"""Queries and inserts compiled once (alliance.compiled) answer exactly as the ORM does, for
every value swapped in; and the hot paths built on them (people's API tokens, the gate's
consortium and data sets) keep the access policy's answers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agreements.models import Dataset
from alliance.compiled import CompiledQuery, column_names, insert, instances
from alliance.errors import AccessDeniedError, NotVisibleError
from compute.api.queries import datasets_by_ids
from compute.compliance.models import Decision
from consortia.models import Organisation
from consortia.permissions import (
    ConsortiumAction,
    get_bare_consortium_for,
    get_consortium_for,
)
from tests.conftest import World

ORGANISATIONS = CompiledQuery(
    lambda ids, kind: (
        Organisation.objects.filter(pk__in=ids, kind=kind)
        .order_by("pk")
        .values_list(*column_names(Organisation))
    )
)


def test_rows_are_the_orms_for_every_value_and_list_length(world: World) -> None:
    every = list(Organisation.objects.order_by("pk"))
    for count in (1, 2, 3, len(every)):
        ids = [organisation.pk for organisation in every[:count]]
        for kind in (Organisation.Kind.COMPANY, Organisation.Kind.RESEARCH):
            orm = list(
                Organisation.objects.filter(pk__in=ids, kind=kind)
                .order_by("pk")
                .values_list(*column_names(Organisation))
            )
            assert ORGANISATIONS.rows(ids=ids, kind=kind) == orm
    assert ORGANISATIONS.rows(ids=[every[0].pk], kind=Organisation.Kind.COMPANY), "rows found"
    assert ORGANISATIONS.rows(ids=[-1], kind=Organisation.Kind.COMPANY) == []


def test_inserted_rows_read_back_as_the_orm_reads_them_json_decoded(world: World) -> None:
    now = timezone.now()
    reasons = [{"code": "SITE_NOT_APPROVED", "subject": {"id": 1, "display": "é «x»"}}]
    decision = Decision(
        consortium=world.consortium_a,
        outcome="deny",
        reasons=reasons,
        input_snapshot={"at": now.isoformat(), "sites": [{"id": 1, "approved": False}]},
        rules_digest="0" * 64,
        evaluated_for=now,
        decided_at=now,
        decided_by=world.member,
    )
    insert(decision)
    assert decision.pk is not None
    assert decision._state.adding is False
    query = CompiledQuery(
        lambda pk: Decision.objects.filter(pk=pk).values_list(*column_names(Decision))
    )
    (found,) = instances(Decision, query.rows(pk=decision.pk))
    orm = Decision.objects.get(pk=decision.pk)
    assert found.reasons == reasons == orm.reasons
    assert found.obligations == [] == orm.obligations
    assert [getattr(found, name) for name in column_names(Decision)] == [
        getattr(orm, name) for name in column_names(Decision)
    ]


def test_a_value_the_sql_does_not_take_as_a_parameter_is_refused(db: object) -> None:
    # A value used in Python, not sent to the database, cannot be swapped afterwards.
    query = CompiledQuery(
        lambda kind: Organisation.objects.filter(pk__gt=0 if kind else 1).values_list("pk")
    )
    with pytest.raises(AssertionError, match="stand-ins the SQL lost"):
        query.rows(kind="company")


def test_insert_stores_what_save_would(world: World) -> None:
    before = timezone.now()
    organisation = Organisation(
        name="Inserted — «quoted»",
        kind=Organisation.Kind.RESEARCH,
        home_jurisdiction_id="FR",
        registration_id="REG-INSERTED",
    )
    insert(organisation)
    assert organisation.pk is not None
    assert organisation._state.adding is False
    stored = Organisation.objects.get(pk=organisation.pk)
    assert stored.name == "Inserted — «quoted»"
    assert stored.kind == Organisation.Kind.RESEARCH
    # auto_now_add ran, as save() would have run it.
    assert stored.created_at >= before
    assert stored.created_at == organisation.created_at


def test_the_bare_consortium_is_the_policys_consortium(world: World) -> None:
    bare = get_bare_consortium_for(world.member, world.consortium_a.pk)
    full = get_consortium_for(world.member, world.consortium_a.pk)
    assert [getattr(bare, name) for name in column_names(type(bare))] == [
        getattr(full, name) for name in column_names(type(full))
    ]
    for user, pk in (
        (world.outsider, world.consortium_a.pk),
        (world.member, world.consortium_b.pk),
        (world.member, 10**9),
    ):
        with pytest.raises(NotVisibleError):
            get_bare_consortium_for(user, pk)
    with pytest.raises(AccessDeniedError):
        get_bare_consortium_for(world.observer, world.consortium_a.pk, ConsortiumAction.CHANGE)


def test_data_sets_are_found_only_in_consortia_the_user_sees(world: World) -> None:
    ours, theirs = (
        Dataset.objects.create(
            consortium=consortium,
            owner=owner,
            name=name,
            sensitivity="internal",
            residency_id="FR",
        )
        for consortium, owner, name in (
            (world.consortium_a, world.org_member, "Ours"),
            (world.consortium_b, world.org_outsider, "Theirs"),
        )
    )
    assert datasets_by_ids(world.member, [ours.pk, ours.pk]) == [ours]
    for user, ids in ((world.member, [ours.pk, theirs.pk]), (world.outsider, [ours.pk])):
        with pytest.raises(ValidationError) as refused:
            datasets_by_ids(user, ids)
        hidden = theirs.pk if user is world.member else ours.pk
        assert refused.value.message_dict == {
            "datasets": [f"No data set you can see has id {hidden}."]
        }
    assert datasets_by_ids(world.outsider, [theirs.pk]) == [theirs]
