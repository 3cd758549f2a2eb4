"""Bar charts as inline SVG, built on the server: no script, no style attribute, no other host."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from course_portal.dashboard.services import Bar

# The drawing's units: the SVG scales to the width of its box. Each bar has its label and
# number on a line above it, so labels get the whole width and stay readable on a phone.
WIDTH = 400
ROW = 40
BAR_HEIGHT = 14
#: characters of a label that fit beside its number; the table has it whole
MAX_LABEL = 40


def _short(label: str) -> str:
    """The label cut to fit its line."""
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def bar_chart(bars: Sequence[Bar], title: str, chart_id: str) -> Markup:
    """A horizontal bar chart; each bar links to the list behind it when it has a URL."""
    height = max(len(bars), 1) * ROW + 4
    peak = max((bar.of or bar.value for bar in bars), default=0) or 1
    chart_id = escape(chart_id)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    for index, bar in enumerate(bars):
        y = index * ROW + 2
        number = f"{bar.value}" if bar.of is None else f"{bar.value} / {bar.of}"
        row = [
            # the whole row takes the click or tap, not only its painted parts
            f'<rect class="chart-hit" x="0" y="{y}" width="{WIDTH}" height="{ROW - 2}" '
            f'fill="transparent"/>',
            f'<text class="chart-label" x="0" y="{y + 14}">{escape(_short(bar.label))}</text>',
            f'<text class="chart-value" x="{WIDTH}" y="{y + 14}" text-anchor="end">'
            f'{escape(number)}</text>',
        ]
        if bar.of is not None:
            row.append(f'<rect class="chart-capacity" x="0" y="{y + 20}" '
                       f'width="{round(WIDTH * bar.of / peak)}" height="{BAR_HEIGHT}" rx="3"/>')
        width = round(WIDTH * bar.value / peak)
        row.append(f'<rect class="chart-bar" x="0" y="{y + 20}" '
                   f'width="{max(width, 2 if bar.value else 0)}" height="{BAR_HEIGHT}" rx="3"/>')
        body = "".join(row)
        if bar.url:
            body = (f'<a href="{escape(bar.url)}" aria-label="{escape(bar.label)}: '
                    f'{escape(number)}">{body}</a>')
        parts.append(f"<g>{body}</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part above is escaped)
