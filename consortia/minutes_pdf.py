"""Approved minutes as a PDF, rendered with the same fonts-only fetcher as agreements."""

from __future__ import annotations

from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from alliance.pdf_fetcher import AppFontsFetcher, fonts_url
from consortia.meetings import Meeting


def render_minutes(meeting: Meeting) -> bytes:
    html = render_to_string(
        "consortia/pdf/minutes.html",
        {
            "meeting": meeting,
            "attendees": meeting.attendees.select_related("organisation").order_by("last_name"),
            "agenda": meeting.agenda.order_by("number"),
            "fonts_url": fonts_url(),
        },
    )
    pdf: bytes = HTML(string=html, url_fetcher=AppFontsFetcher()).write_pdf(
        font_config=FontConfiguration(), pdf_variant="pdf/a-3b"
    )
    return pdf
