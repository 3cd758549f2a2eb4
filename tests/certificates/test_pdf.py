"""The certificate PDF: page, fonts, text, real Chinese glyphs, PDF/A, QR image, one engine."""

from __future__ import annotations

import io
import json
import re
import subprocess
import threading
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader

from course_portal.certificates import pdf
from course_portal.certificates.pdf import (
    CertificateLayoutError,
    CertificateSnapshot,
    UnrenderableText,
    font_configuration,
    missing_glyphs,
    render_certificate,
    render_html,
    render_text_sample,
)
from course_portal.certificates.specimen import specimen_snapshot
from tests.certificates.conftest import VERIFY_URL


def pdffonts(poppler, data: bytes) -> list[dict]:
    """pdffonts' table as dicts: name, type, emb, sub."""
    out = subprocess.run(
        [poppler["pdffonts"], "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    rows = []
    for line in out.splitlines()[2:]:
        # the type column has spaces ("CID Type 0C (OT)"): read the fixed columns from the right
        parts = line.split()
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "line": line})
    return rows


def pdftotext(poppler, data: bytes) -> str:
    """The text poppler extracts (which proves nothing about glyphs, only about text)."""
    return subprocess.run(
        [poppler["pdftotext"], "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def raster(poppler, data: bytes) -> Image.Image:
    """The first page at 72 dpi, in grey."""
    png = subprocess.run(
        [poppler["pdftoppm"], "-png", "-r", "72", "-singlefile", "-"],
        input=data, capture_output=True, check=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("L")


def ink(image: Image.Image) -> tuple[int, bytes]:
    """Dark pixels, and the bitmap cropped to them (equal bitmaps: the same glyphs)."""
    mask = image.point(lambda v: 255 if v < 128 else 0)
    bbox = mask.getbbox()
    assert bbox is not None, "the page is blank"
    cropped = mask.crop(bbox)
    return cropped.histogram()[255], cropped.tobytes() + repr(cropped.size).encode()


def test_one_a4_landscape_page(certificate_pdf):
    reader = PdfReader(io.BytesIO(certificate_pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(841.89, abs=1)
    assert float(box.height) == pytest.approx(595.28, abs=1)


def test_fonts_are_embedded_subsets_including_a_chinese_one(certificate_pdf, poppler):
    fonts = pdffonts(poppler, certificate_pdf)
    assert fonts, "no fonts"
    for font in fonts:
        assert (font["emb"], font["sub"]) == ("yes", "yes"), font["line"]
        assert re.match(r"[A-Z]{6}\+", font["name"]), font["line"]
    names = " ".join(f["name"] for f in fonts)
    assert "Portal-Serif-SC" in names, names
    assert "DejaVu-Serif" in names, names


def test_text_holds_number_names_and_titles(certificate_pdf, poppler):
    # lines wrap where the layout wants: compare with all white space taken out
    squeezed = "".join(pdftotext(poppler, certificate_pdf).split())
    for expected in (
        "IE-2026-0001", "OUYANG Nana", "Оуян Нана", "Инвестиционная экосистема",
        "Investment Ecosystem", "投资生态系统", "欧阳娜娜", "72",
        "Удостоверение о повышении квалификации".upper(), "Certificate of advanced training",
        "进修结业证书", "Peter the Great St. Petersburg Polytechnic University",
        "彼得大帝圣彼得堡理工大学", "Tianshui Pedagogical University", VERIFY_URL,
    ):
        assert "".join(expected.split()) in squeezed, expected
    pypdf_text = PdfReader(io.BytesIO(certificate_pdf)).pages[0].extract_text()
    assert "IE-2026-0001" in pypdf_text and "OUYANG Nana" in pypdf_text


def test_chinese_glyphs_are_real_not_boxes(poppler):
    # pdftotext reads 欧阳娜娜 even from empty boxes; a rasterised page does not lie
    bitmaps = {}
    for char in "欧阳娜玥":  # 玥 lies outside GB2312: it comes from the system Noto fallback
        dark, bitmap = ink(raster(poppler, render_text_sample(char)))
        assert dark > 300, f"{char} drew almost nothing ({dark} dark pixels)"
        bitmaps[char] = bitmap
    assert len(set(bitmaps.values())) == 4, "different characters drew the same shape (boxes?)"

    # what a box looks like through the same pipeline, bypassing the refusal on purpose
    box = _render_unchecked('<p lang="zh-Hans" style="font-size: 60pt">\ua840</p>')
    _, box_bitmap = ink(raster(poppler, box))
    assert box_bitmap not in bitmaps.values()

    name_dark, _ = ink(raster(poppler, render_text_sample("欧阳娜娜")))
    assert name_dark > 4 * 300


def _render_unchecked(html: str) -> bytes:
    """HTML through the certificate engine with no glyph check (only to draw a .notdef box)."""
    from weasyprint import HTML

    engine = pdf._engine()
    document = HTML(string=html, base_url=engine.base_url, url_fetcher=engine.fetcher)
    return document.write_pdf(font_config=engine.font_config, stylesheets=engine.stylesheets)


def test_a_rare_character_falls_back_to_the_system_noto(poppler):
    assert missing_glyphs("司马玥") == []
    data = render_certificate(specimen_snapshot(name_zh="司马玥"), VERIFY_URL)
    names = " ".join(f["name"] for f in pdffonts(poppler, data))
    assert "Noto-Serif-CJK-SC" in names, names


def test_pdfa_3b_metadata_and_output_intent(certificate_pdf):
    reader = PdfReader(io.BytesIO(certificate_pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp), xmp
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp), xmp
    assert "/OutputIntents" in root
    assert "IE-2026-0001" in reader.metadata.title


def _images(resources) -> list:
    """Image XObjects in a resources dictionary, looking inside form XObjects too."""
    found = []
    xobjects = resources.get_object().get("/XObject", {}) if resources else {}
    for ref in xobjects.values():
        obj = ref.get_object()
        if obj.get("/Subtype") == "/Image":
            found.append(obj)
        elif obj.get("/Subtype") == "/Form":
            found.extend(_images(obj.get("/Resources")))
    return found


def _alt_texts(node, seen=None) -> list[str]:
    """Every /Alt of the structure tree under node."""
    seen = set() if seen is None else seen
    obj = node.get_object() if hasattr(node, "get_object") else node
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    found = []
    if isinstance(obj, dict):
        if "/Alt" in obj:
            found.append(str(obj["/Alt"]))
        for key in ("/K",):
            if key in obj:
                found.extend(_alt_texts(obj[key], seen))
    elif isinstance(obj, list):
        for item in obj:
            found.extend(_alt_texts(item, seen))
    return found


def test_qr_code_is_an_image_with_alt_text(certificate_pdf, snapshot):
    html = render_html(snapshot, VERIFY_URL)
    assert f'alt="QR code: verify this certificate at {VERIFY_URL}"' in html
    assert 'src="data:image/png;base64,' in html
    reader = PdfReader(io.BytesIO(certificate_pdf))
    images = _images(reader.pages[0]["/Resources"])
    assert len(images) == 1
    alts = _alt_texts(reader.trailer["/Root"]["/StructTreeRoot"])
    assert any(VERIFY_URL in alt for alt in alts), alts


@pytest.mark.parametrize(
    ("text", "named"),
    [("欧阳\ue000", "U+E000"), ("OUYANG\u0378", "U+0378"), ("Nana\x07", "U+0007"), ("\ua840", "U+A840")],
)
def test_a_character_no_font_covers_is_refused_by_name(text, named):
    assert missing_glyphs(text) == [text[-1]]
    with pytest.raises(UnrenderableText) as caught:
        render_certificate(specimen_snapshot(name_zh=text), VERIFY_URL)
    assert named in str(caught.value)
    assert caught.value.chars == [text[-1]]


def test_covered_text_has_nothing_missing(snapshot):
    assert missing_glyphs("".join(snapshot.texts())) == []
    assert missing_glyphs("Ёжик Щукин — «ДПО» 2026–2027 № 5\n") == []


def test_notdef_warnings_during_rendering_become_the_same_error(monkeypatch):
    # a gap between the up-front check and the fonts WeasyPrint really uses is still caught
    monkeypatch.setattr(pdf, "check_renderable", lambda *args: None)
    with pytest.raises(UnrenderableText) as caught:
        render_certificate(specimen_snapshot(name_latin="OUYANG \ua840"), VERIFY_URL)
    assert caught.value.chars == ["\ua840"]


def test_the_font_configuration_lives_as_long_as_the_process(snapshot, monkeypatch):
    from weasyprint.text import fonts

    first = font_configuration()
    built = []
    original = fonts.FontConfiguration.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(fonts.FontConfiguration, "__init__", counting_init)
    render_certificate(snapshot, VERIFY_URL)
    render_certificate(snapshot, VERIFY_URL)
    assert font_configuration() is first
    assert pdf._engine().stylesheets is pdf._engine().stylesheets
    assert built == []


def test_threads_share_the_engine_and_each_get_a_whole_pdf(snapshot):
    results, engines = [], []

    def work():
        engines.append(font_configuration())
        results.append(render_certificate(snapshot, VERIFY_URL))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 3 and all(len(PdfReader(io.BytesIO(r)).pages) == 1 for r in results)
    assert all(engine is engines[0] for engine in engines)


def test_long_titles_use_the_compact_layout_and_absurd_ones_are_refused():
    long = specimen_snapshot(
        program_title_ru=("Инвестиционная экосистема и цифровая трансформация " * 3)[:150],
        program_title_en=("Investment ecosystem and digital transformation " * 4)[:150],
        program_title_zh=("投资生态系统与数字化转型" * 7)[:80],
        name_zh="司马玥",
    )
    html = render_html(long, VERIFY_URL, compact=True)
    assert 'class="compact"' in html
    assert len(PdfReader(io.BytesIO(render_certificate(long, VERIFY_URL))).pages) == 1
    with pytest.raises(CertificateLayoutError, match="IE-2026-0001"):
        render_certificate(specimen_snapshot(program_title_en="Investment " * 300), VERIFY_URL)


def test_snapshot_round_trips_through_json(snapshot):
    data = json.loads(json.dumps(snapshot.to_dict(), ensure_ascii=False))
    assert data["starts_on"] == "2026-03-01"
    assert CertificateSnapshot.from_dict(data) == snapshot
    assert hash(CertificateSnapshot.from_dict(data)) == hash(snapshot)


@pytest.mark.parametrize(
    "changes",
    [{"hours": 0}, {"hours": "72"}, {"ends_on": date(2026, 2, 1)}, {"name_latin": " "},
     {"issued_on": "2026-07-03"}],
)
def test_snapshot_refuses_wrong_values(changes):
    with pytest.raises(ValueError):
        specimen_snapshot(**changes)


def test_snapshot_from_dict_refuses_unknown_fields(snapshot):
    with pytest.raises(ValueError, match="colour"):
        CertificateSnapshot.from_dict({**snapshot.to_dict(), "colour": "red"})


def test_result_words_in_three_languages(snapshot):
    html = render_html(snapshot, VERIFY_URL)
    assert "зачтено" in html and "passed" in html and "合格" in html
    odd = render_html(specimen_snapshot(result="audited"), VERIFY_URL)
    assert odd.count("audited") == 3
