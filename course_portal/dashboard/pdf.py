"""Reports as A4 PDF tables, rendered with the certificate engine's fonts and safe fetcher."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask_babel import lazy_gettext as _l
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from course_portal.certificates import pdf as certificate_pdf
from course_portal.dashboard.reports import Report

logger = logging.getLogger(__name__)

#: the repository's top-level folder
ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE_DIR = ROOT / "templates" / "dashboard" / "pdf"
STYLESHEET = TEMPLATE_DIR / "report.css"

#: its own environment: the PDF is built from plain values, autoescaped
_jinja = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=True,
    undefined=StrictUndefined,
    auto_reload=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
_css = None
_css_lock = threading.Lock()


def _stylesheet():
    """report.css parsed once, with the certificates' FontConfiguration and fetcher."""
    global _css
    if _css is None:
        with _css_lock:
            if _css is None:
                from weasyprint import CSS

                engine = certificate_pdf._engine()
                _css = CSS(filename=str(STYLESHEET), base_url=engine.base_url,
                           font_config=engine.font_config, url_fetcher=engine.fetcher)
    return _css


def render_report(report: Report, language: str, labels: dict[str, str]) -> bytes:
    """The report as an A4 landscape PDF table; fonts embedded, nothing fetched but static/."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    engine = certificate_pdf._engine()
    html_string = _jinja.get_template("report.html").render(
        report=report, lang={"zh": "zh-Hans"}.get(language, language), labels=labels)
    with certificate_pdf._render_lock:
        try:
            html = HTML(string=html_string, base_url=engine.base_url, url_fetcher=engine.fetcher)
            return html.write_pdf(font_config=engine.font_config, stylesheets=[_stylesheet()])
        except FatalURLFetchingError as exc:  # a BaseException: `except Exception` misses it
            logger.error("report %s: rendering stopped: %s", report.title, exc)
            raise certificate_pdf.CertificateRenderError(
                f"Rendering stopped: {exc}",
                _l("The report's PDF could not be made; the log says why. The CSV and XLSX "
                   "files hold the same table.")) from exc
