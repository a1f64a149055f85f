"""Bulk inserts through PostgreSQL's COPY, for the paths that write thousands of rows at once
(a compliance sweep's findings and their audit events).

Django 5.2's ``bulk_create`` sends each column as one array parameter (``INSERT ... SELECT
FROM UNNEST``), and psycopg quotes every element of those arrays in Python, a regular
expression per value: a sweep that opens 150,000 findings spent a quarter of its time there.
COPY streams the rows through psycopg's C row writer instead. Primary keys are drawn from the
table's sequence first, in one query, so the instances come back with their ids, as they do
from ``bulk_create``. Other databases (the SQLite quick start) use ``bulk_create``.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

_NEXT_IDS = "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)"

# Fields whose value, when of exactly the type named, PostgreSQL's ``get_db_prep_save`` hands
# back unchanged (integers wrapped in psycopg's sized type, as Django wraps them). Asking Django
# anyway cost ~30 µs a row of 20 columns (each call goes through the thread-local connection
# proxy several times): a third of a first sweep's CPU.
_PASSED_AS_IS: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.DateTimeField: datetime.datetime,
    models.AutoField: int,
    models.BigAutoField: int,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.SmallIntegerField: int,
}

M = TypeVar("M", bound=Model)
Converter = Callable[[Model], Any]
_DEFERRED = object()


def db_values(field: models.Field[Any, Any], db: BaseDatabaseWrapper) -> Converter:
    """What ``field.get_db_prep_save(field.pre_save(instance, True), db)`` gives for a new
    instance, without Django's conversions of the values they would not change."""

    def slow(instance: Model) -> Any:
        return field.get_db_prep_save(field.pre_save(instance, True), db)

    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if type(target) is models.JSONField and db.vendor == "postgresql":
        return _json_values(field, db, slow)
    if type(target) is models.GenericIPAddressField and db.vendor == "postgresql":
        # No address (every event a sweep records) stays NULL; an address is normalised.
        attname = field.attname
        return lambda instance: None if instance.__dict__.get(attname) is None else slow(instance)
    kind = _PASSED_AS_IS.get(type(target))
    stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if kind is None or stamped or db.vendor != "postgresql":
        return slow
    attname = field.attname
    sized = kind is int and not isinstance(target, models.AutoField | models.BigAutoField)
    internal_type = target.get_internal_type()
    adapt_integer = db.ops.adapt_integerfield_value

    def fast(instance: Model) -> Any:
        # A deferred value is not in __dict__: Django's own path loads it.
        value = instance.__dict__.get(attname, _DEFERRED)
        if value is None:
            return None
        if type(value) is not kind or (kind is datetime.datetime and _naive(value)):
            return slow(instance)
        return adapt_integer(value, internal_type) if sized else value

    return fast


def _json_values(
    field: models.Field[Any, Any], db: BaseDatabaseWrapper, slow: Converter
) -> Converter:
    """A plain dict or list is wrapped for PostgreSQL as Django wraps it; None is NULL."""
    attname = field.attname
    encoder = getattr(field, "encoder", None)
    adapt = db.ops.adapt_json_value

    def convert(instance: Model) -> Any:
        value = instance.__dict__.get(attname, _DEFERRED)
        if value is None:
            return None
        if type(value) is dict or type(value) is list:
            return adapt(value, encoder)
        return slow(instance)

    return convert


def _naive(value: Any) -> bool:
    # Django makes a naive time aware, with a warning: left to it.
    return value.tzinfo is None


def copy_insert(instances: Sequence[Model]) -> None:
    """Insert new instances of one model, in the order given, and give each its primary key."""
    if not instances:
        return
    model = type(instances[0])
    assert all(type(instance) is model for instance in instances), "one model at a time"
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=1000)
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = list(meta.concrete_fields)
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    with db.cursor() as cursor:
        cursor.execute(_NEXT_IDS, [meta.db_table, pk.column, len(instances)])
        for instance, (pk_value,) in zip(instances, cursor.fetchall(), strict=True):
            setattr(instance, pk.attname, pk_value)
        columns = ", ".join(quote(field.column) for field in fields)
        statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        converters = [db_values(field, db) for field in fields]
        with cursor.cursor.copy(statement) as copy:
            for instance in instances:
                copy.write_row([convert(instance) for convert in converters])
    for instance in instances:
        instance._state.adding = False
        instance._state.db = db.alias


def new_instance(model: type[M], values: dict[str, Any]) -> M:
    """``model(**values)``, by attribute name, with every other field at its default.

    The rows a sweep writes in bulk are built by the hundred thousand, and Django's
    ``__init__`` sets each field through its descriptor and sends two signals. For a model
    whose fields are all plain attributes (a foreign key's id only clears a cached object,
    which a new instance has none of) and that nobody listens to being built, the instance
    is filled in directly: what ``__init__`` would leave, in a quarter of the time."""
    listened = pre_init.has_listeners(model) or post_init.has_listeners(model)
    if listened or not _plain_attributes(model):
        return model(
            *[
                values[field.attname] if field.attname in values else field.get_default()
                for field in model._meta.concrete_fields
            ]
        )
    instance = model.__new__(model)
    attributes = instance.__dict__
    attributes["_state"] = ModelState()
    for field in model._meta.concrete_fields:
        name = field.attname
        attributes[name] = values[name] if name in values else field.get_default()
    return instance


@functools.cache
def _plain_attributes(model: type[Model]) -> bool:
    return all(
        type(model.__dict__.get(field.attname)) in (DeferredAttribute, ForeignKeyDeferredAttribute)
        for field in model._meta.concrete_fields
    )
