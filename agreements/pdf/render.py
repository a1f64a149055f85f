"""An agreement version as a PDF/A-3b document, drafted or executed, by WeasyPrint alone.

WeasyPrint is imported with this module, not per call: a Celery worker imports the module
when it starts and pays for the import (about a second) once.
"""

from __future__ import annotations

import datetime
import mimetypes
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from agreements.models import AgreementVersion
from agreements.pdf.completion import Completion, SignatureRecord
from agreements.pdf.context import VersionDocument, gather
from agreements.pdf.manifest import ODRL_NAME, attachment_files
from alliance.pdf_fetcher import AppFontsFetcher, fonts_url

__all__ = [
    "Completion",
    "SignatureRecord",
    "attachments",
    "build_html",
    "render_version",
    "write_pdf",
]

TEMPLATE = "agreements/pdf/version.html"
PDF_VARIANT = "pdf/a-3b"
# PDF/A-3 says how each embedded file relates to the document: the manifest is the data the
# cover and tables are drawn from; the ODRL file restates Schedule A for machines.
RELATIONSHIPS = {ODRL_NAME: "Alternative"}
DEFAULT_RELATIONSHIP = "Data"

# WeasyPrint types an attachment by its file name. Slim images have no /etc/mime.types, the
# only place Python learns .jsonld, so the ODRL file would be application/octet-stream.
mimetypes.add_type("application/ld+json", ".jsonld")


def _associate_each_file_once(document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists every embedded file twice in the catalog's /AF array (once from
    the EmbeddedFiles name tree, once from the file specifications); list each once."""
    associated = pdf.catalog.get("AF")
    if associated:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)


def _html(document: VersionDocument) -> str:
    # The agreement is a document of record: a draft downloaded by a French-speaking member and
    # the copy sealed by the worker must read the same, so it renders in the default language.
    with translation.override(settings.LANGUAGE_CODE):
        return _render(document)


def _render(document: VersionDocument) -> str:
    return render_to_string(
        TEMPLATE,
        {
            "document": document,
            "agreement": document.agreement,
            "version": document.version,
            "completion": document.completion,
            "fonts_url": fonts_url(),
        },
    )


def build_html(version: AgreementVersion, *, completion: Completion | None = None) -> str:
    """The document as HTML: with ``completion`` the executed document and its certificate of
    completion; without, a draft watermarked as such unless the version is executed."""
    return _html(gather(version, completion))


def attachments(
    version: AgreementVersion, *, completion: Completion | None
) -> list[tuple[str, bytes, str]]:
    """(file name, content, description) of the files the PDF embeds: ``manifest.json``, and
    ``terms.odrl.jsonld`` for an executed data sharing agreement with usage terms."""
    return attachment_files(gather(version, completion))


def write_pdf(html: str, *, attachments: Sequence[tuple[str, bytes, str]] = ()) -> bytes:
    """PDF/A-3b bytes of ``html`` with ``attachments`` embedded. The renderer reads only the
    app's fonts: any other resource the HTML refers to raises ResourceRefusedError."""
    fetcher = AppFontsFetcher()
    now = datetime.datetime.now(datetime.UTC)
    embedded = [
        Attachment(
            string=data,
            url_fetcher=fetcher,
            name=name,
            description=description,
            created=now,
            modified=now,
            relationship=RELATIONSHIPS.get(name, DEFAULT_RELATIONSHIP),
        )
        for name, data, description in attachments
    ]
    try:
        pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(
            # One per render: it holds Fontconfig and Pango state that is not safe to share
            # between threads, and sharing one across renders measured no faster.
            font_config=FontConfiguration(),
            pdf_variant=PDF_VARIANT,
            attachments=embedded,
            finisher=_associate_each_file_once,
        )
    except FatalURLFetchingError as fatal:
        # A BaseException, so that it gets through WeasyPrint's own handlers; the caller (a
        # Celery task, say) gets the ordinary exception behind it.
        if isinstance(fatal.__cause__, Exception):
            raise fatal.__cause__ from None
        raise
    return pdf


def render_version(version: AgreementVersion, *, completion: Completion | None = None) -> bytes:
    """``write_pdf(build_html(...), attachments=attachments(...))``, reading the database once."""
    document = gather(version, completion)
    return write_pdf(_html(document), attachments=attachment_files(document))
