"""The API's documentation pages (Swagger UI, ReDoc) as drf-spectacular serves them, except
that OPTIONS describes them in JSON: the pages render only through their HTML template, and
an OPTIONS answer has none, so the library's views answer it with a server error.

Both pages run under the content security policy (settings.CONTENT_SECURITY_POLICY): Swagger
UI is the split view, whose set-up script is a separate request instead of inline, and ReDoc,
which styles itself with <style> elements it writes at run time (styled-components) and
searches in a worker it makes from a blob, is allowed exactly those two on its own page."""

from __future__ import annotations

from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


class _DescribedInJson:
    request: Any

    def get_renderers(self) -> list[BaseRenderer]:
        if self.request.method == "OPTIONS":
            return [JSONRenderer()]
        renderers: list[BaseRenderer] = super().get_renderers()  # type: ignore[misc]
        return renderers


class SwaggerPage(_DescribedInJson, SpectacularSwaggerSplitView):
    pass


class RedocPage(_DescribedInJson, SpectacularRedocView):
    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        answer = super().finalize_response(request, response, *args, **kwargs)
        answer._csp_update = {  # type: ignore[attr-defined]  # how django-csp's csp_update marks it
            "style-src": [SELF, UNSAFE_INLINE],
            "worker-src": [SELF, "blob:"],
        }
        return answer
