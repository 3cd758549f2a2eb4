"""Certificate rendering as ratios measured in one run, since this machine's speed drifts 2x:

- the portal's render (template, font checks, one-page fitting, the shared engine) against a
  plain WeasyPrint loop writing the same HTML with the same stylesheet and PDF options, the
  floor any WeasyPrint user gets: at most TARGET_OVERHEAD times it;
- headless Chromium printing the same page: at least TARGET_SPEEDUP times slower;
- the PDF's size: at most TARGET_SIZE_KB.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench import Row
from course_portal.certificates.fetcher import STATIC_DIR
from course_portal.certificates.pdf import (
    PDF_OPTIONS,
    STYLESHEET,
    CertificateSnapshot,
    render_certificate,
    render_html,
    warm_up,
)
from course_portal.certificates.specimen import specimen_snapshot

#: the portal's render at most this many times a plain WeasyPrint loop on the same HTML
TARGET_OVERHEAD = 1.1
#: Chromium printing the same page at least this many times slower
TARGET_SPEEDUP = 8
TARGET_SIZE_KB = 100

WEASYPRINT_RUNS = 30
CHROMIUM_RUNS = 5
CHROMIUM = "/usr/bin/chromium"
#: the flags of FIELD-NOTES; --allow-file-access-from-files lets the page load the font subset
#: from static/, so Chromium has the same fonts as WeasyPrint
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--allow-file-access-from-files",
    "--no-pdf-header-footer",
]
VERIFY_URL = "https://courses.spbstu.ru/verify/Zx3kP9q2Lm7Rt5Vb8Nw1Yc4Hd6Jf0Ga"




def standalone_html(snapshot: CertificateSnapshot) -> str:
    """The certificate's HTML with its stylesheet inline and static/ as its base, for a browser."""
    html = render_html(snapshot, VERIFY_URL)
    head = f'<base href="{STATIC_DIR.as_uri()}/"><style>{STYLESHEET.read_text(encoding="utf-8")}</style>'
    return html.replace("</head>", head + "</head>", 1)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which the given fraction of values lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def time_weasyprint(snapshot: CertificateSnapshot) -> dict:
    """Cold first render, then warm renders: times in ms and the PDF's size."""
    started = time.perf_counter()
    warm_up()
    pdf = render_certificate(snapshot, VERIFY_URL)
    first = (time.perf_counter() - started) * 1000
    for _ in range(3):
        render_certificate(snapshot, VERIFY_URL)
    times = []
    for _ in range(WEASYPRINT_RUNS):
        started = time.perf_counter()
        pdf = render_certificate(snapshot, VERIFY_URL)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "first": first,
        "median": statistics.median(times),
        "p95": percentile(times, 0.95),
        "size": len(pdf),
    }


def time_standalone(snapshot: CertificateSnapshot, runs: int = WEASYPRINT_RUNS) -> dict:
    """A plain WeasyPrint loop on the portal's HTML: the stylesheet and font configuration
    built once, each run one HTML(...).write_pdf() with the portal's PDF options."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_html(snapshot, VERIFY_URL)
    base_url = STATIC_DIR.as_uri() + "/"
    fonts = FontConfiguration()
    css = CSS(filename=str(STYLESHEET), base_url=base_url, font_config=fonts)

    def once() -> bytes:
        return HTML(string=html, base_url=base_url).write_pdf(
            stylesheets=[css], font_config=fonts, **PDF_OPTIONS)

    for _ in range(3):
        once()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        pdf = once()
        times.append((time.perf_counter() - started) * 1000)
    return {"median": statistics.median(times), "size": len(pdf)}


def time_chromium(snapshot: CertificateSnapshot) -> dict | None:
    """Wall time of `chromium --print-to-pdf` on the same HTML (ms, median), or None without it."""
    if not os.access(CHROMIUM, os.X_OK):
        return None
    with tempfile.TemporaryDirectory(prefix="bench-chromium-") as folder:
        work = Path(folder)
        page = work / "certificate.html"
        page.write_text(standalone_html(snapshot), encoding="utf-8")
        out = work / "certificate.pdf"
        command = [
            CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}",
            f"--print-to-pdf={out}", page.as_uri(),
        ]
        times = []
        # one untimed run first: the profile folder is created, the disk cache is warm
        for run in range(CHROMIUM_RUNS + 1):
            out.unlink(missing_ok=True)
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, timeout=120, check=True)  # noqa: S603 (fixed program)
            elapsed = (time.perf_counter() - started) * 1000
            if not out.is_file() or out.stat().st_size == 0:
                raise RuntimeError("chromium wrote no PDF")
            if run:
                times.append(elapsed)
        return {"median": statistics.median(times), "size": out.stat().st_size}


def bench_render() -> list[Row]:
    """Rows: the portal's and the plain loop's medians and their ratio, p95, first render and
    size; Chromium's median and its ratio to the portal's. The two WeasyPrint loops alternate
    in halves, so that a drift of the machine's speed touches both."""
    snapshot = specimen_snapshot()
    half = WEASYPRINT_RUNS // 2
    weasy = time_weasyprint(snapshot)
    plain = time_standalone(snapshot, half)
    weasy_again = time_weasyprint(snapshot)
    plain_again = time_standalone(snapshot, half)
    ours = statistics.median([weasy["median"], weasy_again["median"]])
    floor = statistics.median([plain["median"], plain_again["median"]])
    overhead = ours / floor
    chromium = time_chromium(snapshot)
    rows = [
        Row(f"portal render, median of 2 x {WEASYPRINT_RUNS} warm", f"{ours:.1f} ms"),
        Row(f"plain WeasyPrint loop, same HTML, median of 2 x {half}", f"{floor:.1f} ms"),
        Row("portal render / plain WeasyPrint", f"{overhead:.2f}x", f"<= {TARGET_OVERHEAD}x",
            overhead <= TARGET_OVERHEAD),
        Row("portal render p95", f"{weasy['p95']:.1f} ms"),
        Row("portal first render (fonts, stylesheet)", f"{weasy['first']:.0f} ms"),
        Row("portal PDF size", f"{weasy['size'] / 1024:.1f} KB", f"<= {TARGET_SIZE_KB} KB",
            weasy["size"] <= TARGET_SIZE_KB * 1024),
    ]
    if chromium is None:
        rows.append(Row("chromium --print-to-pdf", f"{CHROMIUM} missing", f">= {TARGET_SPEEDUP}x"))
        return rows
    ratio = chromium["median"] / ours
    rows += [
        Row(f"chromium --print-to-pdf median of {CHROMIUM_RUNS}", f"{chromium['median']:.0f} ms"),
        Row("chromium PDF size", f"{chromium['size'] / 1024:.1f} KB"),
        Row("chromium / portal render (median)", f"{ratio:.1f}x", f">= {TARGET_SPEEDUP}x",
            ratio >= TARGET_SPEEDUP),
    ]
    return rows
