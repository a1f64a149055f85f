"""Cursor pagination for every API list.

A cursor never counts the table: page-number pagination runs ``COUNT(*)`` over the whole
filtered set on every page, which grows with the data (perf-calibration §6). Partner
pipelines that sync a list follow ``next`` until it is null.
"""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        # Each view names a stable, unique ordering; the primary key is the fallback.
        ordering = getattr(view, "cursor_ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
