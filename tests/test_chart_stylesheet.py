"""Charts carry no inline style (the content security policy refuses it): their look comes
from static/css/charts.css, which must hold every rule pygal would have put inside each kind
of chart (alliance.charts). When pygal or the charts' style change, this test fails and
prints the stylesheet to commit."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest

from alliance import charts as shared
from compute import charts

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "css" / "charts.css"
RULE = re.compile(r"[^{}]+\{[^{}]*\}")


def draw_every_kind(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Each kind of chart as pygal renders it, before ``accessible`` takes its styles out."""
    drawn: dict[str, str] = {}
    original = shared.accessible

    def keep(svg: str, title: str, description: str) -> object:
        drawn[title] = svg
        return original(svg, title, description)

    monkeypatch.setattr(shared, "accessible", keep)
    monkeypatch.setattr(charts, "accessible", keep)
    day = datetime.date(2026, 1, 1)
    points = [
        charts.DailyCapacity(
            day=day + datetime.timedelta(days=n),
            capacity=Decimal(10),
            reserved=Decimal(5),
            used=Decimal(2),
        )
        for n in range(7)
    ]
    charts.capacity_chart.__wrapped__(points, title="capacity", today=day)  # type: ignore[attr-defined]
    charts.share_usage_chart.__wrapped__(  # type: ignore[attr-defined]
        [charts.ShareUsage(name="A", share=0.5, usage=0.25)], title="share"
    )
    charts.statement_chart.__wrapped__(  # type: ignore[attr-defined]
        [
            charts.StatementBars(
                name="Pool", entitlement=Decimal(5), used=Decimal(2), reserved=Decimal(1)
            )
        ],
        title="statement",
    )
    shared.count_bars.__wrapped__(  # type: ignore[attr-defined]
        [("A", 1), ("B", 2)], title="counts", description="Two bars.", unit="motions"
    )
    return drawn


def rules(css: str) -> list[str]:
    return [rule.strip() for rule in RULE.findall(re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL))]


def test_the_static_stylesheet_holds_every_rule_pygal_would_inline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = draw_every_kind(monkeypatch)
    assert set(drawn) == {"capacity", "share", "statement", "counts"}
    wanted: list[str] = []
    for svg in drawn.values():
        assert "<style" in svg, "pygal inlines its stylesheet (what this test replaces)"
        wanted += [rule for rule in rules(shared.pygal_stylesheet(svg)) if rule not in wanted]
    committed = set(rules(STYLESHEET.read_text(encoding="utf-8")))
    missing = [rule for rule in wanted if rule not in committed]
    assert not missing, "static/css/charts.css is out of date; it should read:\n" + "\n".join(
        wanted
    )


def test_a_chart_for_a_page_has_no_inline_style_and_one_for_a_pdf_has_the_stylesheet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = str(shared.count_bars.__wrapped__([("A", 1)], title="t", description="d", unit="u"))  # type: ignore[attr-defined]
    assert "<style" not in page
    assert "style=" not in page
    assert 'class="pygal-chart"' in page
    pdf = str(shared.with_stylesheet(page))
    assert pdf.count("<style>") == 1
    assert ".pygal-chart .color-0" in pdf
