"""The only resources a PDF renderer may read: the font files that ship with the app.

A clause body is sanitised before it reaches a template, but the renderer is the last line:
whatever asks WeasyPrint for an image, a stylesheet, an attachment or a font elsewhere, on
the network or on the disk, is refused, and the render stops rather than print a document
that differs from its template.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from weasyprint.urls import URLFetcher, URLFetcherResponse

FONTS_DIR = Path(settings.BASE_DIR) / "static" / "fonts" / "dejavu"
FONT_SUFFIXES = frozenset({".ttf"})


class ResourceRefusedError(Exception):
    """The document referred to something other than the app's fonts."""


def fonts_url(root: Path = FONTS_DIR) -> str:
    """The ``file://`` URL of the fonts directory, with the trailing slash CSS URLs join to."""
    return root.resolve().as_uri() + "/"


# WeasyPrint ships no type information, so its fetcher class is Any to mypy.
class AppFontsFetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that serves font files under ``root`` and refuses the rest.

    ``fail_on_errors`` makes WeasyPrint turn any refusal into a fatal error instead of
    rendering on without the resource."""

    def __init__(self, root: Path = FONTS_DIR) -> None:
        super().__init__(fail_on_errors=True)
        self.root = root.resolve()

    def allowed_path(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ResourceRefusedError(f"Refused {url[:200]!r}: the renderer reads no URL.")
        # resolve() follows "..", and symbolic links, before the containment check.
        path = Path(url2pathname(parts.path)).resolve()
        if (
            not path.is_relative_to(self.root)
            or path.suffix.lower() not in FONT_SUFFIXES
            or not path.is_file()
        ):
            raise ResourceRefusedError(f"Refused {url[:200]!r}: only the app's fonts are read.")
        return path

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        path = self.allowed_path(url)
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": "font/ttf"}
        )
