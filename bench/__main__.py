"""Run the benchmarks and print one plain-text table per benchmark: `python -m bench [NAME ...]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench import Row, deadline, issuing, pages, render

#: name -> function returning rows; add a benchmark by adding a line here
BENCHMARKS: dict[str, Callable[[], list[Row]]] = {
    "render": render.bench_render,
    "pages": pages.bench_pages,
    "issuing": issuing.bench_issuing,
    "deadline": deadline.bench_deadline,
}


def format_table(title: str, rows: list[Row]) -> str:
    """Rows as aligned columns: measure, value, target, verdict."""
    header = ("measure", "value", "target", "verdict")
    cells = [header] + [(r.measure, r.value, r.target, r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "-" * len(title)]
    for i, row in enumerate(cells):
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(padded).rstrip())
        if i == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks (all by default); exit 1 when a row misses its target."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    failed = False
    for name in args.names or list(BENCHMARKS):
        rows = BENCHMARKS[name]()
        print(format_table(f"bench {name}", rows), flush=True)
        print()
        failed |= any(row.ok is False for row in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
