"""Certificate PDFs: the frozen snapshot, the glyph check, and rendering with WeasyPrint."""

from __future__ import annotations

import base64
import logging
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape

from course_portal.certificates.fetcher import STATIC_DIR, StaticOnlyURLFetcher
from course_portal.certificates.qr import qr_png_data_uri
from course_portal.certificates.snapshot import (
    RESULT_LABELS,
    CertificateSnapshot,
    hours_genitive_ru,
    study_form_words,
)

logger = logging.getLogger(__name__)

#: the repository's top-level folder
ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE_DIR = ROOT / "templates" / "certificates" / "pdf"
TEMPLATE_NAME = "certificate.html"
STYLESHEET = TEMPLATE_DIR / "certificate.css"
#: the GB2312 cut of Noto Serif CJK SC that certificate.css loads with @font-face
SUBSET_FONT = STATIC_DIR / "fonts" / "PortalSerifSC-GB2312.otf"
#: the system fonts of the stacks in certificate.css, as fontconfig patterns
SYSTEM_FONTS = ("DejaVu Serif:style=Book", "DejaVu Serif:style=Bold", "Noto Serif CJK SC")
#: every certificate is archival PDF with its fonts embedded
PDF_OPTIONS = {"pdf_variant": "pdf/a-3b", "pdf_tags": True}

#: HTML collapses these to a space, so no font needs a glyph for them
COLLAPSED_WHITESPACE = frozenset("\t\n\r\f")


class CertificateError(Exception):
    """A certificate that cannot be rendered.

    str() is for the log, in English with the technical detail; .message is what the
    coordinator reads, in the portal's words from its catalogs (lazy: it is translated when
    shown, in the reader's language).
    """

    #: what the coordinator reads when no subclass says more
    message = _l("The PDF could not be made; the log says why.")


class UnrenderableText(CertificateError):  # noqa: N818 (named in the issue)
    """Characters that no font of the certificate can draw: they would print as blank boxes."""

    def __init__(self, chars):
        self.chars = list(dict.fromkeys(chars))
        named = ", ".join(describe_character(c) for c in self.chars)
        super().__init__(f"No font on the certificate can print these characters: {named}")
        self.message = _l("The name or another text of this certificate has characters that no "
                          "font of the certificate can print: %(chars)s. Correct the profile, "
                          "then issue again.", chars=named)


class CertificateLayoutError(CertificateError):
    """Text too long for the one-page layout, even in the compact setting."""

    def __init__(self, what: str):
        super().__init__(f"The certificate {what} does not fit on one page: shorten the program "
                         "title, the institute or the partner university's name.")
        self.message = _l("Certificate %(number)s does not fit on one page: shorten the program "
                          "title, the institute or the partner university's name.", number=what)


class CertificateRenderError(CertificateError):
    """Rendering stopped, for example because the document reached for a refused URL."""

    def __init__(self, detail: str, message=None):
        super().__init__(detail)
        if message is not None:
            self.message = message


def describe_character(char: str) -> str:
    """U+XXXX, the character and its Unicode name, for an error message."""
    name = unicodedata.name(char, "unassigned or private use")
    shown = char if char.isprintable() else ""
    return f"U+{ord(char):04X} {shown} ({name})".replace("  ", " ")


# --- fonts and the glyph check ----------------------------------------------------------------


def _system_font_file(pattern: str) -> tuple[Path, int] | None:
    """The file and face index fontconfig picks for a pattern, or None when the family is absent."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    out = subprocess.run(  # noqa: S603 (fixed program, pattern from SYSTEM_FONTS)
        [fc_match, "-f", "%{file}\n%{index}\n%{family}", pattern],
        capture_output=True, text=True, timeout=30, check=False,
    ).stdout.split("\n")
    if len(out) < 3 or pattern.split(":")[0] not in out[2].split(","):
        return None
    return Path(out[0]), int(out[1] or 0)


def font_files() -> list[tuple[Path, int]]:
    """The fonts of certificate.css's stacks that exist here: (file, face index)."""
    found = [(SUBSET_FONT, 0)] if SUBSET_FONT.is_file() else []
    for pattern in SYSTEM_FONTS:
        if (hit := _system_font_file(pattern)) is not None:
            found.append(hit)
        else:
            logger.warning("certificate font missing: %s", pattern)
    return found


_coverage: frozenset[int] | None = None
_coverage_lock = threading.Lock()


def covered_characters() -> frozenset[int]:
    """Code points that some font of the stacks maps to a glyph (read once per process)."""
    global _coverage
    if _coverage is None:
        with _coverage_lock:
            if _coverage is None:
                from fontTools.ttLib import TTFont

                codepoints: set[int] = set()
                for path, index in font_files():
                    with TTFont(str(path), fontNumber=index, lazy=True) as font:
                        codepoints.update(font.getBestCmap())
                _coverage = frozenset(codepoints)
    return _coverage


@lru_cache(maxsize=65536)
def is_renderable(char: str) -> bool:
    """True when the certificate's fonts draw this character as a real glyph."""
    if char in COLLAPSED_WHITESPACE:
        return True
    # controls, lone surrogates, private use and unassigned code points have no agreed shape,
    # even where some font happens to map them
    if unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"}:
        return False
    return ord(char) in covered_characters()


def missing_glyphs(text: str) -> list[str]:
    """The characters of text (each once, in order) that would print as blank boxes."""
    return [c for c in dict.fromkeys(text) if not is_renderable(c)]


def check_renderable(snapshot: CertificateSnapshot, verify_url: str = "") -> None:
    """Raise UnrenderableText naming every character of the snapshot that no font covers."""
    missing = missing_glyphs("".join(snapshot.texts()) + verify_url)
    if missing:
        raise UnrenderableText(missing)


# --- HTML -----------------------------------------------------------------------------------

#: its own environment, not Flask's: rendering runs in background jobs with no app or request
_jinja = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=True,
    undefined=StrictUndefined,
    auto_reload=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _dates(snapshot: CertificateSnapshot) -> dict:
    """Start, end and issue dates written out in each language."""
    patterns = {"ru": "long", "en": "d MMMM y", "zh": "long"}
    return {
        lang: {
            "start": format_date(snapshot.starts_on, pattern, locale=lang),
            "end": format_date(snapshot.ends_on, pattern, locale=lang),
            "issued": format_date(snapshot.issued_on, pattern, locale=lang),
        }
        for lang, pattern in patterns.items()
    }


def _image_uri(images: Mapping[str, bytes], sha256: str) -> str:
    """A data URI of the PNG the snapshot names by SHA-256; "" when it names none."""
    if not sha256:
        return ""
    png = images.get(sha256)
    if png is None:
        raise CertificateRenderError(
            f"The image {sha256[:12]}… named by the certificate is missing.",
            _l("A signature or seal image that the certificate prints is missing. An admin "
               "restores it on the signatories' page, or the certificate is re-issued."))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(snapshot: CertificateSnapshot, verify_url: str, *, compact: bool = False,
                images: Mapping[str, bytes] | None = None) -> str:
    """The certificate as autoescaped HTML; certificate.css is applied beside it, not linked.

    images holds the signatures' and the seal's PNGs by their SHA-256, as the snapshot names them.
    """
    images = images or {}
    result = RESULT_LABELS.get(snapshot.result) or dict.fromkeys(("ru", "en", "zh"), snapshot.result)
    # the same order as the rest of the page: Russian, English, Chinese
    partner = [
        (lang, name)
        for lang, name in (
            ("ru", snapshot.partner_university_ru),
            ("en", snapshot.partner_university_en),
            ("zh-Hans", snapshot.partner_university_zh),
        )
        if name
    ]
    lines = [(line, _image_uri(images, line.signature_sha256)) for line in snapshot.signatories]
    return _jinja.get_template(TEMPLATE_NAME).render(
        s=snapshot,
        verify_url=verify_url,
        qr_src=qr_png_data_uri(verify_url),
        dates=_dates(snapshot),
        result=result,
        partner=partner,
        compact=compact,
        form=study_form_words(snapshot.study_form, snapshot.delivery),
        hours_ru=hours_genitive_ru(snapshot.hours),
        signatures=lines,
        seal_src=_image_uri(images, snapshot.seal_sha256),
    )


# --- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Engine:
    """What every render shares for the life of the process."""

    font_config: object
    stylesheets: list
    fetcher: StaticOnlyURLFetcher
    base_url: str


_engine_instance: _Engine | None = None
_engine_lock = threading.Lock()
#: one render at a time per process: Pango's font map and WeasyPrint's font caches are shared,
#: and renders are CPU-bound under the GIL anyway; scale out with processes
_render_lock = threading.Lock()


def _engine() -> _Engine:
    """The process-wide FontConfiguration, parsed stylesheet and fetcher, built on first use."""
    global _engine_instance
    if _engine_instance is None:
        with _engine_lock:
            if _engine_instance is None:
                from weasyprint import CSS
                from weasyprint.text.fonts import FontConfiguration

                font_config = FontConfiguration()
                fetcher = StaticOnlyURLFetcher(fail_on_errors=True)
                # relative URLs in the stylesheet (the @font-face file) resolve in static/
                base_url = STATIC_DIR.as_uri() + "/"
                css = CSS(
                    filename=str(STYLESHEET),
                    base_url=base_url,
                    font_config=font_config,
                    url_fetcher=fetcher,
                )
                _engine_instance = _Engine(font_config, [css], fetcher, base_url)
    return _engine_instance


def font_configuration():
    """The one weasyprint FontConfiguration that every certificate of this process uses."""
    return _engine().font_config


def warm_up() -> None:
    """Build the shared engine and read the font coverage now, e.g. before a worker forks."""
    covered_characters()
    _engine()


class _NotdefCollector(logging.Handler):
    """Collects the characters of WeasyPrint's ".notdef glyph rendered" warnings in one thread."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.chars: list[str] = []

    def emit(self, record):
        if record.thread != self.thread or not str(record.msg).startswith(".notdef glyph"):
            return
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) >= 2 and isinstance(args[1], int):
            self.chars.append(chr(args[1]))
        else:
            self.chars.append("\ufffd")


@contextmanager
def _collect_notdef():
    """Attach a _NotdefCollector to WeasyPrint's logger, with warnings let through, while inside."""
    from weasyprint import LOGGER

    collector = _NotdefCollector()
    level = LOGGER.level
    if LOGGER.getEffectiveLevel() > logging.WARNING:
        LOGGER.setLevel(logging.WARNING)
    LOGGER.addHandler(collector)
    try:
        yield collector
    finally:
        LOGGER.removeHandler(collector)
        LOGGER.setLevel(level)


def _write_pdf(html_variants, *, one_page: bool, what: str) -> bytes:
    """Render the first variant that fits (all of them on one page when one_page) to PDF bytes."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    engine = _engine()
    with _render_lock, _collect_notdef() as notdef:
        try:
            for html_string in html_variants:
                html = HTML(string=html_string, base_url=engine.base_url, url_fetcher=engine.fetcher)
                document = html.render(
                    font_config=engine.font_config, stylesheets=engine.stylesheets, **PDF_OPTIONS
                )
                if not one_page or len(document.pages) == 1:
                    break
            else:
                raise CertificateLayoutError(what)
            pdf = document.write_pdf(**PDF_OPTIONS)
        except FatalURLFetchingError as exc:  # a BaseException: `except Exception` misses it
            logger.error("certificate %s: rendering stopped: %s", what, exc)
            raise CertificateRenderError(f"Rendering stopped: {exc}") from exc
    # .notdef is drawn while the PDF is written, so the check comes after write_pdf
    if notdef.chars:
        raise UnrenderableText(notdef.chars)
    return pdf


def render_certificate(snapshot: CertificateSnapshot, verify_url: str,
                       images: Mapping[str, bytes] | None = None) -> bytes:
    """The certificate as one A4 landscape PDF/A-3b page with embedded, subset fonts."""
    # Raises UnrenderableText (a character no font covers), CertificateLayoutError (too long
    # for one page) or CertificateRenderError (a refused resource); all are CertificateError.
    if snapshot.layout_version < 2:
        raise ValueError("layout 1 certificates are frozen PDFs; they are never rendered again")
    check_renderable(snapshot, verify_url)
    # the compact layout is tried only when the normal one runs onto a second page
    variants = (render_html(snapshot, verify_url, compact=c, images=images)
                for c in (False, True))
    return _write_pdf(variants, one_page=True, what=snapshot.registry_number)


def render_text_sample(text: str, lang: str = "zh-Hans") -> bytes:
    """A page of only this text in large type, through the certificate's fonts and pipeline."""
    # for checks that glyphs are real (a rasterised page shows them); raises like
    # render_certificate
    missing = missing_glyphs(text)
    if missing:
        raise UnrenderableText(missing)
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>sample</title></head><body>'
        f'<p lang="{escape(lang)}" style="font-size: 60pt; line-height: 1.2">{escape(text)}</p>'
        "</body></html>"
    )
    return _write_pdf([html], one_page=False, what="sample")
