"""The share card: a certificate's first page as a PNG, rendered from its frozen PDF.

A link to the verification page pasted into WeChat or another messenger shows this picture
(og:image), and the teacher saves the larger one to a phone, where a PDF opens badly inside
WeChat's browser. It is drawn from the stored PDF with PDFium (pypdfium2), so it shows exactly
what the PDF shows and can never disagree with it.

A certificate that is no longer valid gets a band across the picture: REVOKED or SUPERSEDED in
the three languages. The picture is kept rather than withheld because a card without a picture
reads as a broken link and says nothing, while the band says the one thing the frozen PDF
cannot; the page's title and description say it too.

Pictures are kept in SHARE_CARD_FOLDER under the PDF's SHA-256, the width and the band, so each
is rendered once per server; the folder is a cache (nothing is lost with it: the PDF is the
record), which is why the pictures are not in the database beside the PDF.
"""

from __future__ import annotations

import io
import os
import re
import threading
from pathlib import Path

from flask import current_app

from course_portal.certificates.models import Certificate, CertificateStatus

#: the width of og:image: what messengers and social sites show
SHARE_WIDTH = 1200
#: the teacher's picture: the registry number and the QR code stay legible on a phone
FULL_WIDTH = 2000
WIDTHS = frozenset({SHARE_WIDTH, FULL_WIDTH})
#: the band over a certificate that is no longer valid, in every language at once: whoever
#: sees the picture may read any of them
BANDS = {
    CertificateStatus.REVOKED: ("REVOKED · 已撤销 · АННУЛИРОВАНО", (178, 24, 24)),
    CertificateStatus.SUPERSEDED: ("SUPERSEDED · 已被替换 · ЗАМЕНЕНО", (150, 90, 0)),
}
#: the font of the band: the certificate's own GB2312 cut, which has the Latin and Cyrillic too
BAND_FONT = Path(__file__).resolve().parent.parent / "static" / "fonts" / "PortalSerifSC-GB2312.otf"
_SHA256 = re.compile(r"[0-9a-f]{64}")

#: PDFium is not thread-safe: one render at a time per process
_pdfium_lock = threading.Lock()


def card_folder() -> Path:
    """Where rendered cards are kept: SHARE_CARD_FOLDER, or instance/share-cards."""
    folder = current_app.config.get("SHARE_CARD_FOLDER") or os.path.join(
        current_app.instance_path, "share-cards")
    return Path(folder).resolve()


def band_of(certificate: Certificate) -> str:
    """The band's name in the card's file name: "", "revoked" or "superseded"."""
    return certificate.status.value if certificate.status in BANDS else ""


def card_path(certificate: Certificate, width: int) -> Path:
    """The cached card of the certificate's PDF at this width, with its band."""
    if width not in WIDTHS:
        raise ValueError(f"no share card is made {width} pixels wide")
    sha256 = certificate.pdf_sha256
    if not _SHA256.fullmatch(sha256 or ""):
        raise ValueError("the certificate has no PDF yet")
    band = band_of(certificate)
    return card_folder() / f"{sha256}-{width}{'-' + band if band else ''}.png"


def render_first_page(pdf: bytes, width: int):
    """The PDF's first page as an RGB Pillow image `width` pixels wide, annotations drawn."""
    import pypdfium2 as pdfium

    with _pdfium_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[0]
            try:
                page_width, _height = page.get_size()
                bitmap = page.render(scale=width / page_width, draw_annots=True,
                                     may_draw_forms=True)
                try:
                    image = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    if image.width != width:  # the scale rounds: make the width exact for og:image
        image = image.resize((width, round(image.height * width / image.width)))
    return image


def draw_band(image, status: CertificateStatus):
    """The picture with a band across its middle saying the certificate is no longer valid."""
    from PIL import Image, ImageDraw, ImageFont

    text, colour = BANDS[status]
    width, height = image.size
    band_height = max(height // 7, 40)
    top = (height - band_height) // 2
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, top, width, top + band_height), fill=(*colour, 225))
    # a frame too, so that a crop of the picture (a messenger's square thumbnail) shows it
    frame = max(width // 150, 4)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(*colour, 255), width=frame)
    size = band_height // 2
    font = ImageFont.truetype(str(BAND_FONT), size)
    while size > 10 and draw.textlength(text, font=font) > width * 0.92:
        size -= 2
        font = ImageFont.truetype(str(BAND_FONT), size)
    draw.text((width / 2, top + band_height / 2), text, font=font, anchor="mm",
              fill=(255, 255, 255, 255), stroke_width=max(size // 30, 1),
              stroke_fill=(255, 255, 255, 255))
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def make_card(pdf: bytes, width: int, status: CertificateStatus) -> bytes:
    """The card's PNG: the first page at this width, with the band its status calls for."""
    image = render_first_page(pdf, width)
    if status in BANDS:
        image = draw_band(image, status)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _write(path: Path, data: bytes) -> None:
    """Write beside the target and rename: a reader never sees half a picture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def card_png(certificate: Certificate, width: int) -> bytes:
    """The certificate's card at this width: from the folder, or rendered once and kept there.

    The stored PDF (a deferred column) is read from the database only to render. Two servers
    or threads rendering the same card at once both write the same bytes.
    """
    path = card_path(certificate, width)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = make_card(certificate.pdf, width, certificate.status)
    _write(path, data)
    return data
