"""Lean output serialisation for rows fetched with ``.values()``.

A ModelSerializer list builds a model instance per row and runs DRF's field machinery per
value: about five times the cost of the same rows as ``.values()`` (perf-calibration §5).
A ``RowSerializer`` keeps the declared fields as the one description of the output (OpenAPI
reads them; ``columns()`` tells the selector what to fetch) and copies each row through a
converter chosen once per field type.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from rest_framework import serializers

Converter = Callable[[Any], Any]


def _as_is(value: Any) -> Any:
    return value


def _datetime(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    text = value.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _date(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class JSONTextField(serializers.JSONField):
    """JSON that the database holds as text (the audit trail's canonical ``changes``)."""


def _json_text(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _converter(field: serializers.Field[Any, Any, Any, Any]) -> Converter:
    if isinstance(field, JSONTextField):
        return _json_text
    if isinstance(field, serializers.DateTimeField):
        return _datetime
    if isinstance(field, serializers.DateField):
        return _date
    if isinstance(field, serializers.DecimalField):
        return _decimal
    return _as_is


class RowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Read-only serializer over dict rows; ``source`` may use dots for joined columns."""

    _plans: ClassVar[dict[type, tuple[tuple[str, str, Converter], ...]]] = {}

    @classmethod
    def _plan(cls) -> tuple[tuple[str, str, Converter], ...]:
        plan = RowSerializer._plans.get(cls)
        if plan is None:
            plan = tuple(
                (name, str(field.source or name).replace(".", "__"), _converter(field))
                for name, field in cls._declared_fields.items()
            )
            RowSerializer._plans[cls] = plan
        return plan

    @classmethod
    def columns(cls) -> list[str]:
        """The ``.values()`` columns this serializer reads."""
        return [column for _, column, _ in cls._plan()]

    def to_representation(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        return {name: convert(instance[column]) for name, column, convert in self._plan()}


class InstantField(serializers.DateTimeField):
    """An input instant within the years the services compute around (a look-back over a
    pool's longest reservation, ten years ahead): near year 1 or 9999 that arithmetic would
    leave the calendar and fail as a server error instead of refusing the input."""

    EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    LATEST = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC)

    def to_internal_value(self, value: Any) -> datetime.datetime:
        instant = super().to_internal_value(value)
        if not self.EARLIEST <= instant < self.LATEST:
            raise serializers.ValidationError("Give an instant between the years 1970 and 2999.")
        return instant
