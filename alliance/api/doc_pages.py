"""The API's documentation pages (Swagger UI, ReDoc) as drf-spectacular serves them, except
that OPTIONS describes them in JSON: the pages render only through their HTML template, and
an OPTIONS answer has none, so the library's views answer it with a server error."""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.renderers import BaseRenderer, JSONRenderer


class _DescribedInJson:
    request: Any

    def get_renderers(self) -> list[BaseRenderer]:
        if self.request.method == "OPTIONS":
            return [JSONRenderer()]
        renderers: list[BaseRenderer] = super().get_renderers()  # type: ignore[misc]
        return renderers


class SwaggerPage(_DescribedInJson, SpectacularSwaggerView):
    pass


class RedocPage(_DescribedInJson, SpectacularRedocView):
    pass
