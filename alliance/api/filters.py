"""Filters shared by the API's lists."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, in UTC.

    Python reads UTC offsets up to 23:59 and PostgreSQL only up to 15:59: an instant written
    ``+18:30`` would reach the query as it was given and fail there as a server error."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        instant: datetime.datetime | None = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(datetime.UTC)
        except OverflowError:  # year 1 or 9999 moved across midnight
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number within the database's range.

    django-filter's NumberFilter reads a decimal: ``?pool=7.9`` matched pool 7, and a number
    past 64 bits failed in SQLite as a server error. Both are refused as input."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class InConsortiumFilter(django_filters.FilterSet):
    """The filter every list of a consortium's records offers: ``?consortium=<id>``."""

    consortium = IdFilter(field_name="consortium_id")
