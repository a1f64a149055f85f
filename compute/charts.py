"""Charts of the compute pages as server-rendered SVG: they show without JavaScript, print in
the PDF statements and fetch nothing from elsewhere (the shared rules are in alliance.charts).

Line and bar charts come from pygal. The reservation timeline (a Gantt chart) is drawn here by hand: pygal has none.
Every chart carries a ``<title>`` and a ``<desc>`` (and ``role="img"``), and none relies on
colour alone: series are told apart by line patterns, hatching and direct value labels, and
each page shows the same numbers as a table beside the chart.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pygal  # type: ignore[import-untyped]
from django.http import HttpResponse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from alliance.charts import FONT, STYLE, accessible, cached_chart
from alliance.charts import external_urls as external_urls
from alliance.csv_export import csv_response


def _number(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class DailyCapacity:
    """One day of a pool: GPU-hours it offers, holds for members and saw used."""

    day: datetime.date
    capacity: Decimal
    reserved: Decimal
    used: Decimal | None  # None for days still to come


def capacity_csv(filename: str, points: Sequence[DailyCapacity]) -> HttpResponse:
    """The numbers behind a capacity chart, one row a day (a pool's or a consortium's)."""
    return csv_response(
        filename,
        ("day", "capacity_gpu_hours", "reserved_gpu_hours", "used_gpu_hours"),
        ((point.day.isoformat(), point.capacity, point.reserved, point.used) for point in points),
    )


@cached_chart
def capacity_chart(
    points: Sequence[DailyCapacity], *, title: str, today: datetime.date
) -> SafeString:
    """Capacity, reserved and used GPU-hours per day as three lines (solid, dashed, dotted)."""
    chart = pygal.Line(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=960,
        height=340,
        show_dots=False,
        fill=False,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        truncate_legend=-1,
        truncate_label=-1,
        x_label_rotation=0,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(points) // 6),
        y_title="GPU-hours per day",
        include_x_axis=True,
        print_values=False,
        margin=12,
        margin_right=48,
    )
    chart.x_labels = [point.day.strftime("%d %b %Y") for point in points]
    chart.add(
        "Capacity (solid line)",
        [_number(point.capacity) for point in points],
        stroke_style={"width": 3},
    )
    chart.add(
        "Reserved (dashed line)",
        [_number(point.reserved) for point in points],
        stroke_style={"width": 2.5, "dasharray": "9, 5"},
    )
    chart.add(
        "Used (dotted line)",
        [_number(point.used) for point in points],
        stroke_style={"width": 2.5, "dasharray": "2, 4", "linecap": "round"},
    )
    first, last = (points[0].day, points[-1].day) if points else (today, today)
    return accessible(
        chart.render(is_unicode=True),
        title,
        f"GPU-hours per day from {first:%d %b %Y} to {last:%d %b %Y}; today is "
        f"{today:%d %b %Y}. Capacity is a solid line, reserved a dashed line, used a dotted "
        "line (reported usage only, so it stops at today). The table below the chart has "
        "every number.",
    )


@dataclass(frozen=True)
class ShareUsage:
    """A member's share of a pool and its share of the recent (decayed) usage, 0 to 1."""

    name: str
    share: float
    usage: float


@cached_chart
def share_usage_chart(rows: Sequence[ShareUsage], *, title: str) -> SafeString:
    """Two bars per member, share then usage, each labelled with its value."""
    chart = pygal.HorizontalBar(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=960,
        height=max(200, 90 + 52 * len(rows)),
        print_values=True,
        print_values_position="top",
        legend_at_bottom=True,
        truncate_legend=-1,
        truncate_label=-1,
        range=(0, 1),
        include_x_axis=True,
        value_formatter=lambda value: f"{value:.1%}",
        margin=12,
    )
    # pygal draws horizontal bars bottom-up; reversed, the first member is on top.
    ordered = list(reversed(rows))
    chart.x_labels = [row.name for row in ordered]
    chart.add(
        "Share S",
        [row.share for row in ordered],
        formatter=lambda value: f"share {value:.1%}",
    )
    chart.add(
        "Usage U (decayed)",
        [row.usage for row in ordered],
        formatter=lambda value: f"usage {value:.1%}",
    )
    return accessible(
        chart.render(is_unicode=True),
        title,
        "For each member, a bar for its share S and a bar for its part U of the pool's recent "
        "usage, each labelled with its percentage. A member whose usage bar is longer than its "
        "share bar has used more than its share.",
    )


@dataclass(frozen=True)
class StatementBars:
    """A pool's line of a statement, for its chart."""

    name: str
    entitlement: Decimal
    used: Decimal
    reserved: Decimal


@cached_chart
def statement_chart(rows: Sequence[StatementBars], *, title: str) -> SafeString:
    """Entitlement, reserved and used GPU-hours per pool, as labelled bars."""
    chart = pygal.HorizontalBar(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=900,
        height=max(180, 90 + 60 * len(rows)),
        print_values=True,
        print_values_position="top",
        legend_at_bottom=True,
        truncate_legend=-1,
        truncate_label=-1,
        include_x_axis=True,
        margin=12,
    )
    ordered = list(reversed(rows))
    chart.x_labels = [row.name for row in ordered]
    for label, name in (("entitled", "entitlement"), ("reserved", "reserved"), ("used", "used")):
        chart.add(
            f"GPU-hours {label}",
            [float(getattr(row, name)) for row in ordered],
            formatter=lambda value, label=label: f"{label} {value:,.0f}",
        )
    return accessible(
        chart.render(is_unicode=True),
        title,
        "For each pool, GPU-hours the member was entitled to, had reserved and used in the "
        "period, each bar labelled with its figure.",
    )


@dataclass(frozen=True)
class TimelineBar:
    """One reservation on the timeline."""

    label: str  # what the row says, e.g. "Request 4 · Member Org"
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    gpus: int
    site: str


# Fills told apart without colour: solid, hatched, dotted, cross-hatched.
_PATTERNS = (
    "",
    '<pattern id="{id}" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
    '<rect width="3" height="6" fill="{colour}"/></pattern>',
    '<pattern id="{id}" width="5" height="5" patternUnits="userSpaceOnUse">'
    '<rect width="5" height="5" fill="#ffffff"/><circle cx="2.5" cy="2.5" r="1.6" '
    'fill="{colour}"/></pattern>',
    '<pattern id="{id}" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#ffffff"/><path d="M0 0L6 6M6 0L0 6" '
    'stroke="{colour}" stroke-width="1.4"/></pattern>',
)
_COLOURS = ("#1f4e8c", "#c0580a", "#1d6b3a", "#6b3a8a")


def timeline_chart(
    bars: Sequence[TimelineBar],
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    title: str,
) -> SafeString:
    """A Gantt chart: one row per reservation, its bar over [start, end) of the axis, the
    bar's fill naming the site (and said in words in the legend and on the bar)."""
    chart_id = uuid.uuid4().hex[:12]
    label_width, plot_width, row_height, top = 300, 640, 26, 46
    width = label_width + plot_width + 20
    height = top + row_height * max(1, len(bars)) + 56
    span = (end - start).total_seconds()

    def x(moment: datetime.datetime) -> float:
        clipped = min(max(moment, start), end)
        return label_width + plot_width * (clipped - start).total_seconds() / span

    sites = sorted({bar.site for bar in bars})
    fills: dict[str, str] = {}
    defs: list[str] = []
    for index, site in enumerate(sites):
        colour = _COLOURS[index % len(_COLOURS)]
        pattern = _PATTERNS[index % len(_PATTERNS)]
        if pattern:
            pattern_id = f"tl-{chart_id}-{index}"
            defs.append(pattern.format(id=pattern_id, colour=colour))
            fills[site] = f"url(#{pattern_id})"
        else:
            fills[site] = colour
    parts: list[str] = []
    # Month ticks along the top.
    month = datetime.datetime(start.year, start.month, 1, tzinfo=start.tzinfo)
    while month < end:
        if month >= start and x(month) < width - 60:
            position = x(month)
            parts.append(
                f'<line x1="{position:.1f}" y1="{top - 8}" x2="{position:.1f}" '
                f'y2="{height - 50}" stroke="#d9dee5"/>'
                f'<text x="{position + 3:.1f}" y="{top - 12}" font-size="11" '
                f'fill="#5b6676">{month:%b %Y}</text>'
            )
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    for row, bar in enumerate(bars):
        y = top + row * row_height
        left, right = x(bar.starts_at), x(bar.ends_at)
        clipped_left = bar.starts_at < start
        clipped_right = bar.ends_at > end
        window = f"{bar.starts_at:%d %b %Y %H:%M} to {bar.ends_at:%d %b %Y %H:%M} UTC"
        parts.append(
            f'<g class="timeline-row"><title>{escape(bar.label)}: {bar.gpus} GPUs at '
            f"{escape(bar.site)}, {window}</title>"
            f'<text x="{label_width - 8}" y="{y + 17}" font-size="12" text-anchor="end" '
            f'fill="#1b2430">{escape(bar.label)}</text>'
            f'<rect x="{left:.1f}" y="{y + 4}" width="{max(right - left, 2):.1f}" '
            f'height="{row_height - 8}" fill="{fills[bar.site]}" stroke="#1b2430" '
            'stroke-width="1"/>'
        )
        note = f"{bar.gpus} GPUs · {bar.site}"
        if clipped_left:
            note = "◀ " + note
        if clipped_right:
            note += " ▶"
        inside = right - left > 7.2 * len(note) + 8
        text_x = left + 4 if inside else min(right + 4, width - 4)
        anchor = "start" if inside or right + 4 < width - 160 else "end"
        if not inside and anchor == "end":
            text_x = left - 4
        background = (
            f'<rect x="{text_x - 2:.1f}" y="{y + 6}" width="{7 * len(note):.1f}" height="14" '
            'fill="#ffffff" opacity=".85"/>'
            if inside
            else ""
        )
        parts.append(
            f'{background}<text x="{text_x:.1f}" y="{y + 17}" font-size="11" '
            f'text-anchor="{anchor}" fill="#1b2430">{escape(note)}</text></g>'
        )
    if not bars:
        parts.append(
            f'<text x="{label_width + plot_width / 2:.0f}" y="{top + 17}" font-size="12" '
            'text-anchor="middle" fill="#5b6676">No active reservation in this window.</text>'
        )
    if start <= now <= end:
        position = x(now)
        parts.append(
            f'<line x1="{position:.1f}" y1="{top - 6}" x2="{position:.1f}" y2="{height - 50}" '
            'stroke="#a32020" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{position:.1f}" y="{height - 38}" font-size="11" text-anchor="middle" '
            f'fill="#a32020">today</text>'
        )
    legend_y = height - 18
    legend = [f'<text x="8" y="{legend_y + 10}" font-size="11" fill="#5b6676">Sites:</text>']
    cursor = 52
    for site in sites:
        legend.append(
            f'<rect x="{cursor}" y="{legend_y}" width="14" height="12" fill="{fills[site]}" '
            f'stroke="#1b2430"/><text x="{cursor + 19}" y="{legend_y + 10}" font-size="11" '
            f'fill="#1b2430">{escape(site)}</text>'
        )
        cursor += 40 + 7 * len(site)
    label_id = f"chart-title-{chart_id}"
    description = (
        f"One row per active reservation from {start:%d %b %Y} to {end:%d %b %Y}: the bar "
        "spans its window, its fill and its label name the site and the GPUs held; a dashed "
        "line marks today. The table below lists the same reservations."
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="timeline-chart" role="img" aria-labelledby="{label_id}" '
        f'font-family="{escape(FONT)}">'
        f'<title id="{label_id}">{escape(title)}</title><desc>{escape(description)}</desc>'
        f"<defs>{''.join(defs)}</defs>"
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'
        f"{''.join(parts)}{''.join(legend)}</svg>"
    )
    assert not external_urls(svg)
    return mark_safe(svg)  # noqa: S308 - every text above is escaped
