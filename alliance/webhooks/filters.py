"""Filters shared by the browser pages and the API lists of webhooks."""

from __future__ import annotations

import django_filters
from django import forms

from alliance.webhooks.models import Destination, Message

# Ids are bigint: anything outside is an invalid filter (400), not a database error.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class MessageFilter(django_filters.FilterSet):
    endpoint = IdFilter(field_name="endpoint_id", label="Endpoint id")
    # A plain string: a second enum named "status" in the schema would collide with others.
    status = django_filters.CharFilter(
        field_name="status", label="One of: " + ", ".join(Message.Status.values)
    )

    class Meta:
        model = Message
        fields = ["endpoint", "status"]


class DestinationFilter(django_filters.FilterSet):
    consortium = IdFilter(field_name="consortium_id", label="Consortium id")

    class Meta:
        model = Destination
        fields = ["consortium"]
