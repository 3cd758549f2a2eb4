"""Run the benchmarks and print one plain-text table of them all: `python -m bench [NAME ...]`."""

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


def format_table(title: str, rows: list[tuple[str, Row]]) -> str:
    """(benchmark, row) pairs as aligned columns: benchmark, measure, value, target, verdict."""
    header = ("bench", "measure", "value", "target", "verdict")
    cells = [header] + [(name, r.measure, r.value, r.target, r.verdict) for name, r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "-" * len(title)]
    for i, row in enumerate(cells):
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(padded).rstrip())
        if i == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks (all by default) in this one run and print one table of them;
    exit 1 when a row misses its target."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    rows: list[tuple[str, Row]] = []
    for name in args.names or list(BENCHMARKS):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += [(name, row) for row in BENCHMARKS[name]()]
    print(format_table("make bench: measured side by side in one run", rows), flush=True)
    return 1 if any(row.ok is False for _name, row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
