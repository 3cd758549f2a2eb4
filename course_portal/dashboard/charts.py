"""Bar charts built on the server: no script, no style attribute, no other host.

A chart is a list: each row's label and number are text a screen reader reads and a link's
name is made of, exactly as the eye reads them; only the bar itself is drawn, in a small SVG
that assistive technology skips (the number beside it says the same). An `<svg role="img">`
holding the links would hide them inside a picture (nested interactive controls) and name
them differently from what is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from course_portal.dashboard.services import Bar

# The bar's drawing units: each bar's SVG stretches to the width of its row.
WIDTH = 400
BAR_HEIGHT = 14


def _bar_drawing(bar: Bar, peak: int) -> str:
    """The bar (and behind it the capacity, when the number is "of" something)."""
    rects = []
    if bar.of is not None:
        rects.append(f'<rect class="chart-capacity" x="0" y="0" '
                     f'width="{round(WIDTH * bar.of / peak)}" height="{BAR_HEIGHT}"/>')
    width = round(WIDTH * bar.value / peak)
    rects.append(f'<rect class="chart-bar" x="0" y="0" '
                 f'width="{max(width, 2 if bar.value else 0)}" height="{BAR_HEIGHT}"/>')
    return (f'<svg class="chart-drawing" viewBox="0 0 {WIDTH} {BAR_HEIGHT}" '
            f'preserveAspectRatio="none" aria-hidden="true" focusable="false">'
            f'{"".join(rects)}</svg>')


def bar_chart(bars: Sequence[Bar], title: str, chart_id: str) -> Markup:
    """A horizontal bar chart; each bar links to the list behind it when it has a URL."""
    peak = max((bar.of or bar.value for bar in bars), default=0) or 1
    parts = [f'<ol class="chart" id="{escape(chart_id)}-chart" aria-label="{escape(title)}">']
    for bar in bars:
        number = f"{bar.value}" if bar.of is None else f"{bar.value} / {bar.of}"
        # the whole row takes the click or tap, not only its painted parts
        body = (f'<span class="chart-label">{escape(bar.label)}</span> '
                f'<span class="chart-value">{escape(number)}</span>'
                f"{_bar_drawing(bar, peak)}")
        if bar.url:
            body = f'<a class="chart-row" href="{escape(bar.url)}">{body}</a>'
        else:
            body = f'<span class="chart-row">{body}</span>'
        parts.append(f"<li>{body}</li>")
    parts.append("</ol>")
    return Markup("".join(parts))  # noqa: S704 (every text part above is escaped)


def table_rows(bars: Sequence[Bar]) -> Markup:
    """The rows of the chart's table (dashboard/index.html's "numbers as a table"): each bar's
    label, linked when it has a URL, and its number.

    Written here like the chart itself: as a Jinja loop, the seats chart's thirty intakes and
    the other charts' rows cost the page about as much as every figure's query.
    """
    rows = []
    for bar in bars:
        label = escape(bar.label)
        if bar.url:
            label = Markup(f'<a href="{escape(bar.url)}">{label}</a>')  # noqa: S704 (escaped)
        number = f"{bar.value}" if bar.of is None else f"{bar.value} / {bar.of}"
        # the template's indentation, so the page reads the same as when Jinja wrote the rows
        rows.append(f'\n                <tr data-key="{escape(bar.key)}">'
                    f'\n                  <th scope="row">{label}</th>'
                    f'\n                  <td class="num">{escape(number)}</td>'
                    f"\n                </tr>\n              ")
    return Markup("".join(rows))  # noqa: S704 (every text part above is escaped)
