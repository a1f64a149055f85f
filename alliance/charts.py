"""Server-rendered SVG charts that every app may use: they show without JavaScript, print in
PDFs and fetch nothing from elsewhere (a sovereign deployment runs air-gapped).

pygal renders them without its tooltip script (``js=[]``); ``accessible`` strips its comments,
inline configuration script and inline stylesheet, checks that the SVG refers to no URL but the SVG namespaces,
and labels it (``role="img"``, ``<title>``, ``<desc>``) for assistive technology. A chart never
relies on colour alone: values are printed on the bars, series differ in line pattern or
hatching, and every page shows the same numbers as a table and as CSV.

The content security policy allows no inline style, so a chart's look comes from the static
``css/charts.css`` (pygal's own stylesheet, scoped to every chart alike instead of to one
chart's random id; tests/test_chart_stylesheet.py keeps the two in step). A PDF has no such
policy and no stylesheet link: ``with_stylesheet`` puts the rules back inside its SVG.
"""

from __future__ import annotations

import functools
import hashlib
import html
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ParamSpec

import pygal  # type: ignore[import-untyped]
from django.contrib.staticfiles import finders
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
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL)
_CHART_ID = re.compile(r"#chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A style attribute in markup (in text, quotes are escaped, so a name cannot look like one).
_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["']""", re.IGNORECASE)
STYLESHEET = "css/charts.css"

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


def pygal_stylesheet(svg: str) -> str:
    """The rules of pygal's inline stylesheet in ``svg``, as css/charts.css holds them: for
    every chart (the class all carry) rather than this one's id, and line patterns for line
    charts only (a bar's outline must not be dashed)."""
    found = _STYLE_ELEMENT.search(svg)
    # Unescaped: inside the SVG it is XML text (".graph &gt; .background").
    css = _CHART_ID.sub(".pygal-chart", html.unescape(found.group(1)) if found else "")
    return css.replace(".pygal-chart .series.serie-", ".pygal-chart .line-graph .series.serie-")


def accessible(svg: str, title: str, description: str) -> SafeString:
    """pygal's SVG without its comments, script and inline styles, labelled for assistive
    technology."""
    svg = _STYLE_ELEMENT.sub("", _SCRIPT.sub("", _COMMENT.sub("", svg)))
    # The (never shown) tooltip's only inline style, as a presentation attribute instead.
    svg = svg.replace('style="opacity: 0"', 'opacity="0"')
    assert not _STYLE_ATTRIBUTE.search(svg), "a chart carries an inline style the CSP refuses"
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


def with_stylesheet(svg: str) -> SafeString:
    """A chart for a PDF: WeasyPrint styles an SVG from inside it, and no CSP applies there."""
    path = finders.find(STYLESHEET)
    assert isinstance(path, str), f"{STYLESHEET} is a static file"
    css = Path(path).read_text(encoding="utf-8")
    opening = _SVG_OPEN.search(svg)
    assert opening is not None, "a chart is an <svg> element"
    return mark_safe(  # noqa: S308 - our own static stylesheet inside our own chart
        f"{svg[: opening.end()]}<style>{css}</style>{svg[opening.end() :]}"
    )


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
