"""Queries and inserts compiled once (alliance.compiled) answer exactly as the ORM does, for
every value swapped in; and the hot paths built on them (people's API tokens, the gate's
consortium and data sets) keep the access policy's answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements.models import Dataset
from alliance.compiled import CompiledQuery, column_names, insert, instances, read_together
from alliance.errors import AccessDeniedError, NotVisibleError
from compute.api.queries import datasets_by_ids
from compute.compliance.models import Decision
from consortia.models import Organisation
from consortia.permissions import (
    ConsortiumAction,
    get_bare_consortium_for,
    get_consortium_for,
)
from tests.conftest import World, requires_postgres, unsaved_decision


def _organisations(ids: Any, kind: Any) -> QuerySet[Organisation, tuple[Any, ...]]:
    return (
        Organisation.objects.filter(pk__in=ids, kind=kind)
        .order_by("pk")
        .values_list(*column_names(Organisation))
    )


ORGANISATIONS = CompiledQuery(_organisations)
PREPARED_ORGANISATIONS = CompiledQuery(_organisations, prepared=True)


@pytest.mark.parametrize(
    "query",
    [ORGANISATIONS, pytest.param(PREPARED_ORGANISATIONS, marks=requires_postgres)],
    ids=["client-bound", "prepared"],
)
def test_rows_are_the_orms_for_every_value_and_list_length(
    world: World, query: CompiledQuery
) -> None:
    every = list(Organisation.objects.order_by("pk"))
    for count in (1, 2, 3, len(every)):
        ids = [organisation.pk for organisation in every[:count]]
        for kind in (Organisation.Kind.COMPANY, Organisation.Kind.RESEARCH):
            assert query.rows(ids=ids, kind=kind) == list(_organisations(ids, kind))
    assert query.rows(ids=[every[0].pk], kind=Organisation.Kind.COMPANY), "rows found"
    assert query.rows(ids=[-1], kind=Organisation.Kind.COMPANY) == []


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@requires_postgres
def test_a_prepared_query_is_one_statement_of_the_connection_per_shape(world: World) -> None:
    every = list(Organisation.objects.order_by("pk"))
    for count in (1, 3):
        for kind in (Organisation.Kind.COMPANY, Organisation.Kind.RESEARCH):
            PREPARED_ORGANISATIONS.rows(ids=[o.pk for o in every[:count]], kind=kind)
    with CaptureQueriesContext(connection) as logged:
        assert PREPARED_ORGANISATIONS.rows(ids=[every[0].pk], kind=every[0].kind), "rows found"
    # Django's query log (tests that count or read queries) still sees its SQL.
    assert '"consortia_organisation"' in logged.captured_queries[0]["sql"]
    # One statement per list length, whatever the values: the plan is reused.
    ours = [sql for sql in _prepared_statements() if '"consortia_organisation"' in sql]
    assert len(ours) == 2, ours
    assert all("$1" in sql for sql in ours)


@requires_postgres
def test_prepared_statements_can_be_turned_off(world: World, settings: Any) -> None:
    settings.ALLIANCE_PREPARED_STATEMENTS = False
    before = _prepared_statements()
    rows = PREPARED_ORGANISATIONS.rows(ids=[world.org_member.pk], kind=world.org_member.kind)
    assert [row[0] for row in rows] == [world.org_member.pk]
    assert _prepared_statements() == before


@requires_postgres
def test_reads_sent_together_are_taken_once_each_by_the_rows_that_ask_for_them(
    world: World,
) -> None:
    ids = [world.org_member.pk, world.org_chair.pk]
    kind = world.org_member.kind
    orm = list(_organisations(ids, kind))
    assert orm, "rows to read"
    first = [row for row in orm if row[0] == ids[0]]
    with CaptureQueriesContext(connection) as sent:
        with read_together(
            ORGANISATIONS.read(ids=ids, kind=kind),
            PREPARED_ORGANISATIONS.read(ids=ids[:1], kind=kind),
            None,
        ):
            with CaptureQueriesContext(connection) as inside:
                assert ORGANISATIONS.rows(ids=ids, kind=kind) == orm
                assert PREPARED_ORGANISATIONS.rows(ids=ids[:1], kind=kind) == first
            assert inside.captured_queries == []
            # Taken once; other values read as usual.
            assert ORGANISATIONS.rows(ids=ids, kind=kind) == orm
            assert ORGANISATIONS.rows(ids=ids[:1], kind=kind) == first
        # A read the block did not take is gone with it.
        with read_together(
            ORGANISATIONS.read(ids=ids[:1], kind=kind),
            PREPARED_ORGANISATIONS.read(ids=ids, kind=kind),
        ):
            pass
        assert ORGANISATIONS.rows(ids=ids[:1], kind=kind) == first
    # Two reads sent together, two read afterwards, two sent together, one read after.
    assert len(sent.captured_queries) == 2 + 2 + 2 + 1


def test_inserted_rows_read_back_as_the_orm_reads_them_json_decoded(world: World) -> None:
    now = timezone.now()
    reasons = [{"code": "SITE_NOT_APPROVED", "subject": {"id": 1, "display": "é «x»"}}]
    decision = unsaved_decision(
        world,
        outcome="deny",
        reasons=reasons,
        input_snapshot={"at": now.isoformat(), "sites": [{"id": 1, "approved": False}]},
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
