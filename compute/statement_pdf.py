"""A member's statement as a PDF, rendered with the same fonts-only fetcher as agreements and
minutes: the document can read the app's fonts and nothing else."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from alliance.charts import with_stylesheet
from alliance.pdf_fetcher import AppFontsFetcher, fonts_url
from compute import charts
from compute.statements import Statement
from consortia.models import Consortium


def render_statement(statement: Statement, consortium: Consortium) -> bytes:
    chart = (
        charts.statement_chart(
            [
                charts.StatementBars(
                    name=row.pool_name,
                    entitlement=row.entitlement_gpu_hours,
                    used=row.used_gpu_hours,
                    reserved=row.reserved_gpu_hours,
                )
                for row in statement.rows
            ],
            title=f"{statement.organisation_name}, {statement.label}: GPU-hours per pool",
        )
        if statement.rows
        else None
    )
    html = render_to_string(
        "compute/pdf/statement.html",
        {
            "statement": statement,
            "consortium": consortium,
            "chart": with_stylesheet(chart) if chart is not None else None,
            "generated_at": timezone.now(),
            "fonts_url": fonts_url(),
        },
    )
    pdf: bytes = HTML(string=html, url_fetcher=AppFontsFetcher()).write_pdf(
        font_config=FontConfiguration()
    )
    return pdf
