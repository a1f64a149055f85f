"""Cursor pagination for every API list.

A cursor never counts the table: page-number pagination runs ``COUNT(*)`` over the whole
filtered set on every page, which grows with the data (perf-calibration §6). Partner
pipelines that sync a list follow ``next`` until it is null.
"""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_page_size(self, request: Request) -> int:
        """``page_size`` from the query, or the default; anything but a whole number from 1
        to ``max_page_size`` is refused (DRF would quietly fall back to the default, so a
        client that sent ``page_size=1e3`` would never learn why it got 50 rows)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"A whole number from 1 to {self.max_page_size}, not {raw[:20]!r}."
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    **parameter["schema"],
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        # Each view names a stable, unique ordering; the primary key is the fallback.
        ordering = getattr(view, "cursor_ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
