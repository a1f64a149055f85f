"""Agreement versions as PDF/A-3b documents: drafts with a watermark, executed versions with
their certificate of completion, a manifest and (for data sharing) ODRL terms embedded.

    render_version(version, completion=None) -> bytes
    build_html(version, completion=None) -> str
    attachments(version, completion=...) -> [(file name, bytes, description)]
    write_pdf(html, attachments=()) -> bytes

Importing this package imports WeasyPrint.
"""

from agreements.pdf.completion import Completion, SignatureRecord
from agreements.pdf.render import attachments, build_html, render_version, write_pdf
from alliance.pdf_fetcher import ResourceRefusedError

__all__ = [
    "Completion",
    "ResourceRefusedError",
    "SignatureRecord",
    "attachments",
    "build_html",
    "render_version",
    "write_pdf",
]
