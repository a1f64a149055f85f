"""Server-rendered SVG charts that every app may use: they show without JavaScript, print in
PDFs and fetch nothing from elsewhere (a sovereign deployment runs air-gapped).

pygal renders them without its tooltip script (``js=[]``); ``accessible`` strips its comments
and inline configuration script, checks that the SVG refers to no URL but the SVG namespaces,
and labels it (``role="img"``, ``<title>``, ``<desc>``) for assistive technology. A chart never
relies on colour alone: values are printed on the bars, series differ in line pattern or
hatching, and every page shows the same numbers as a table and as CSV.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from typing import ParamSpec

import pygal  # type: ignore[import-untyped]
from django.core.cache import cache
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style  # type: ignore[import-untyped]

URL = re.compile(r"""(?:https?|ftp|file)://[^\s"'<>)]*""", re.IGNORECASE)
# Where an SVG can make the browser fetch something: link attributes and CSS url(...).
# Text is not a fetch: a member called "Acme (https://acme.eu)" must not break a chart.
_FETCHES = re.compile(
    r"""(?:\b(?:href|src)\s*=\s*["']([^"']*)["'])|(?:url\(\s*["']?([^"')]*))""",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif'
STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1b2430",
    foreground_strong="#1b2430",
    foreground_subtle="#5b6676",
    opacity=".75",
    opacity_hover=".9",
    # Dark blue, orange, green: told apart by people with the common colour-vision
    # deficiencies, and by line pattern or hatching besides.
    colors=("#1f4e8c", "#c0580a", "#1d6b3a", "#6b3a8a"),
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=11,
    legend_font_size=12,
    guide_stroke_color="#b8c0cc",
    major_guide_stroke_color="#b8c0cc",
    guide_stroke_dasharray="2,4",
    major_guide_stroke_dasharray="2,4",
)


def external_urls(svg: str) -> set[str]:
    """Addresses ``svg`` would fetch from elsewhere (a chart must have none)."""
    targets = (first or second for first, second in _FETCHES.findall(svg))
    return {target for target in targets if URL.match(target.strip())}


def accessible(svg: str, title: str, description: str) -> SafeString:
    """pygal's SVG without its comments and script, labelled for assistive technology."""
    svg = _SCRIPT.sub("", _COMMENT.sub("", svg))
    # Named by its content: the same chart (cached, below) keeps the same id.
    label_id = f"chart-title-{hashlib.sha256((title + svg).encode()).hexdigest()[:12]}"
    opening = _SVG_OPEN.search(svg)
    assert opening is not None, "pygal renders an <svg> element"
    attributes = opening.group(1)
    replacement = (
        f'<svg{attributes} role="img" aria-labelledby="{label_id}">'
        f'<title id="{label_id}">{escape(title)}</title><desc>{escape(description)}</desc>'
    )
    svg = svg[: opening.start()] + replacement + svg[opening.end() :]
    leftover = external_urls(svg)
    assert not leftover, f"a chart refers to {sorted(leftover)}"
    return mark_safe(svg)  # noqa: S308 - built by pygal's XML writer, text escaped above


Arguments = ParamSpec("Arguments")
CHART_CACHE_SECONDS = 3600


def cached_chart(render: Callable[Arguments, SafeString]) -> Callable[Arguments, SafeString]:
    """Keep a rendered chart in the cache, keyed by what it draws. pygal spends about ten
    milliseconds on a chart, and a dashboard draws several on every view although their
    numbers rarely change between views. A chart is a pure function of its arguments
    (frozen dataclasses, numbers, dates and strings, whose repr is their value), so equal
    arguments give the same picture and nothing needs invalidating."""

    # The code that draws is part of the key, so a deployment that changes how charts look
    # does not serve the old pictures from a shared cache.
    drawing_code = hashlib.sha256(
        (inspect.getsource(sys.modules[__name__]) + inspect.getsource(render)).encode()
    ).hexdigest()

    @functools.wraps(render)
    def cached(*args: Arguments.args, **kwargs: Arguments.kwargs) -> SafeString:
        drawn = repr((drawing_code, render.__qualname__, args, sorted(kwargs.items())))
        key = "chart:" + hashlib.sha256(drawn.encode()).hexdigest()
        svg: str | None = cache.get(key)
        if svg is None:
            svg = str(render(*args, **kwargs))
            cache.set(key, svg, CHART_CACHE_SECONDS)
        return mark_safe(svg)  # noqa: S308 - stored as rendered by accessible() above

    return cached


@cached_chart
def count_bars(
    rows: Sequence[tuple[str, int]], *, title: str, description: str, unit: str
) -> SafeString:
    """One labelled bar per category, top to bottom in the order given, each bar printing
    its category and count (one series: nothing to tell apart by colour)."""
    chart = pygal.HorizontalBar(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=720,
        height=max(160, 80 + 40 * len(rows)),
        print_values=True,
        print_values_position="top",
        show_legend=False,
        truncate_label=-1,
        include_x_axis=True,
        margin=12,
        margin_right=48,
    )
    ordered = list(reversed(rows))
    chart.x_labels = [label for label, _ in ordered]
    # Whole-number ticks: a count axis reading 0.1, 0.2 … suggests fractions of an agreement.
    largest = max((count for _, count in rows), default=0)
    step = max(1, -(-largest // 5))
    chart.y_labels = list(range(0, largest + step, step))
    chart.add(unit, [count for _, count in ordered], formatter=lambda value: f"{value:,.0f}")
    return accessible(chart.render(is_unicode=True), title, description)
