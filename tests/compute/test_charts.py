"""The compute charts: server-rendered SVG that refers to nothing outside the page, says what
it shows to assistive technology, escapes what users typed, and tells series apart without
colour."""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.urls import reverse
from django.utils import timezone

from compute import charts
from compute.charts import (
    DailyCapacity,
    ShareUsage,
    StatementBars,
    TimelineBar,
    external_urls,
)
from tests.compute.conftest import Grid
from tests.compute.test_pages import contribute, report_usage, submit

UTC = datetime.UTC
STATIC = Path(__file__).resolve().parent.parent.parent / "static"
HOSTILE = '<script>alert("x")</script> & Co\'s'
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def _points() -> list[DailyCapacity]:
    today = datetime.date(2026, 12, 3)
    return [
        DailyCapacity(
            day=today + datetime.timedelta(days=offset),
            capacity=Decimal(576),
            reserved=Decimal(96 if offset > 3 else 0),
            used=Decimal(120) if offset <= 0 else None,
        )
        for offset in range(-10, 11)
    ]


def _assert_self_contained(svg: str) -> None:
    assert svg.startswith("<svg")
    assert external_urls(svg) == set()
    assert not re.search(r"https?://(?!www\.w3\.org/(2000/svg|1999/xlink)\b)", svg)
    assert "<script" not in svg.lower()
    assert "<!--" not in svg
    assert "href=" not in svg.replace("xmlns:xlink=", "")
    assert 'role="img"' in svg
    assert "<title" in svg
    assert "<desc>" in svg


def test_the_capacity_chart_is_self_contained_and_labelled() -> None:
    svg = str(
        charts.capacity_chart(_points(), title="Pool: capacity", today=datetime.date(2026, 12, 3))
    )
    _assert_self_contained(svg)
    assert "Pool: capacity</title>" in svg
    # Told apart without colour: each line has its own pattern, and the legend says which.
    assert "Capacity (solid line)" in svg
    assert "Reserved (dashed line)" in svg
    assert "Used (dotted line)" in svg
    # The patterns come from the charts' stylesheet: the CSP allows no style inside the SVG.
    assert re.search(r'class="series serie-1\b', svg)
    assert "<style" not in svg
    stylesheet = (STATIC / "css" / "charts.css").read_text(encoding="utf-8")
    assert ".line-graph .series.serie-1{stroke-width:2.5;stroke-dasharray:9,5}" in stylesheet
    assert (
        ".line-graph .series.serie-2{stroke-width:2.5;stroke-linecap:round;stroke-dasharray:2,4}"
        in stylesheet
    )


def test_the_share_chart_labels_every_bar_and_escapes_names() -> None:
    svg = str(
        charts.share_usage_chart(
            [ShareUsage(HOSTILE, 0.25, 0.5), ShareUsage("Member Org", 0.75, 0.5)],
            title=f"Shares of {HOSTILE}",
        )
    )
    _assert_self_contained(svg)
    assert "<script>alert" not in svg
    assert "&lt;script&gt;" in svg
    for label in ("share 25.0%", "usage 50.0%", "share 75.0%"):
        assert label in svg


def test_the_statement_chart_labels_its_bars() -> None:
    svg = str(
        charts.statement_chart(
            [StatementBars("H100 pool", Decimal(1000), Decimal(250), Decimal(400))],
            title="Statement",
        )
    )
    _assert_self_contained(svg)
    for label in ("entitled 1,000", "used 250", "reserved 400"):
        assert label in svg


def test_the_timeline_draws_one_row_per_reservation() -> None:
    start = datetime.datetime(2026, 9, 4, tzinfo=UTC)
    end = datetime.datetime(2027, 3, 4, tzinfo=UTC)
    bars = [
        TimelineBar(
            "Request 1 · Member Org",
            datetime.datetime(2026, 12, 10, tzinfo=UTC),
            datetime.datetime(2026, 12, 20, tzinfo=UTC),
            4,
            "Paris-1",
        ),
        TimelineBar(
            f"Request 2 · {HOSTILE}",
            datetime.datetime(2026, 1, 1, tzinfo=UTC),
            datetime.datetime(2027, 6, 1, tzinfo=UTC),
            8,
            "Frankfurt-1",
        ),
    ]
    svg = str(
        charts.timeline_chart(
            bars, start=start, end=end, now=datetime.datetime(2026, 12, 3, tzinfo=UTC), title="T"
        )
    )
    assert external_urls(svg) == set()
    assert "<script>" not in svg
    assert svg.count('class="timeline-row"') == 2
    assert "4 GPUs · Paris-1" in svg
    assert "◀ 8 GPUs · Frankfurt-1 ▶" in svg  # runs past both ends of the window
    assert ">today</text>" in svg
    assert "<pattern" in svg  # the second site is hatched, not just another colour
    assert "Dec 2026" in svg
    assert 'role="img"' in svg


def test_an_empty_timeline_says_so() -> None:
    start = datetime.datetime(2026, 9, 4, tzinfo=UTC)
    svg = str(
        charts.timeline_chart(
            [],
            start=start,
            end=start + datetime.timedelta(days=180),
            now=start + datetime.timedelta(days=90),
            title="Empty",
        )
    )
    assert "No active reservation in this window." in svg


def test_external_urls_finds_what_is_not_a_namespace() -> None:
    assert external_urls('<svg xmlns="http://www.w3.org/2000/svg"></svg>') == set()
    assert external_urls('<image href="https://cdn.example.com/x.png"/>') == {
        "https://cdn.example.com/x.png"
    }


def test_served_pages_carry_no_external_urls(grid: Grid, browser_as: Any) -> None:
    contribute(grid)
    report_usage(grid)
    request = submit(grid)
    from compute import allocations

    allocations.request_decide(actor=grid.board_chair_org, request=request, decision="approve")
    client = browser_as(grid.world.member)
    urls = [
        reverse("compute:pool", args=[grid.pool.pk]),
        reverse("compute:fair-share", args=[grid.pool.pk]),
        reverse("compute:consortium-fair-share", args=[grid.world.consortium_a.pk]),
        reverse("compute:statement", args=[grid.world.consortium_a.pk])
        + f"?period={timezone.localdate():%Y-%m}",
    ]
    for url in urls:
        html = client.get(url).content.decode()
        found = SVG.findall(html)
        assert found, url
        for svg in found:
            assert external_urls(svg) == set(), url
        # Nothing on the page is fetched from elsewhere: scripts and styles are served assets.
        for source in re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="([^"]+)"', html):
            assert source.startswith("/"), (url, source)


def test_a_url_in_a_members_name_is_text_not_a_fetch() -> None:
    assert external_urls("<text>Acme (https://acme.eu)</text>") == set()
    assert external_urls('<rect style="fill: url(https://evil.example/x)"/>') == {
        "https://evil.example/x"
    }
    assert external_urls('<rect fill="url(#hatch-paris)"/>') == set()


def test_a_chart_is_drawn_once_for_the_same_numbers(monkeypatch: Any) -> None:
    import pygal  # type: ignore[import-untyped]

    import alliance.charts

    drawn: list[object] = []
    real = pygal.HorizontalBar

    def counting(*args: Any, **kwargs: Any) -> Any:
        drawn.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(pygal, "HorizontalBar", counting)
    # A title of its own: the cache (Redis under CI) outlives a test run.
    title = f"By status {uuid.uuid4().hex}"
    rows = [("Executed", 3), ("Draft", 1)]
    first = alliance.charts.count_bars(rows, title=title, description="d", unit="agreements")
    again = alliance.charts.count_bars(rows, title=title, description="d", unit="agreements")
    assert again == first
    assert len(drawn) == 1
    changed = alliance.charts.count_bars(
        [("Executed", 4), ("Draft", 1)], title=title, description="d", unit="agreements"
    )
    assert len(drawn) == 2
    assert changed != first
