"""The share card: og: and twitter: tags on a certificate's page, and its picture, which is the
PDF's first page (compared with poppler's render of the same PDF), kept once rendered."""

from __future__ import annotations

import html
import io
import re
import subprocess
from pathlib import Path

import pytest
import segno
from PIL import Image, ImageChops, ImageFilter

from course_portal.certificates import services, sharecard
from course_portal.certificates.qr import QUIET_ZONE
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake

#: the worst 40-pixel tile of a 1200-pixel render may differ this much (mean grey level, 0–255,
#: both blurred a little) from poppler's render of the same page: measured 11 for the same PDF,
#: 45 for a certificate with another name and number
SAME_PAGE_TILE_DIFFERENCE = 20


@pytest.fixture
def coordinator(db):
    return factories.make_user(role="coordinator")


def issue(coordinator, code: str = "IE", **names):
    fields = {"family_name_zh": "欧阳", "given_name_zh": "娜娜", "family_name_latin": "Ouyang",
              "given_name_latin": "Nana", **names}
    certificate = services.issue_certificate(
        make_completed(make_finished_intake(code), **fields), coordinator)
    db.session.commit()
    return certificate


@pytest.fixture
def certificate(coordinator):
    return issue(coordinator)


def meta(page: str) -> dict[str, str]:
    """The page's <meta property|name=… content=…> tags, their values unescaped."""
    found = {}
    for key, value in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', page):
        found[key] = html.unescape(value)
    return found


def grey(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("L")


def poppler_render(pdf: bytes, width: int, tmp_path: Path, pdftoppm: str) -> Image.Image:
    """The PDF's first page rendered by poppler, the other renderer, at the same width."""
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-png", "-singlefile", "-f", "1", "-l", "1", "-scale-to-x",
                    str(width), "-scale-to-y", "-1", str(source), str(tmp_path / "page")],
                   check=True, timeout=60)
    return Image.open(tmp_path / "page.png").convert("L")


def worst_tile(a: Image.Image, b: Image.Image, tile: int = 40) -> float:
    """The largest mean difference over tiles: a changed name or number stands out in its tile."""
    assert abs(a.width - b.width) <= 1 and abs(a.height - b.height) <= 1, (a.size, b.size)
    b = b.resize(a.size)
    difference = ImageChops.difference(a.filter(ImageFilter.GaussianBlur(1.5)),
                                       b.filter(ImageFilter.GaussianBlur(1.5)))
    worst = 0.0
    for top in range(0, a.height, tile):
        for left in range(0, a.width, tile):
            histogram = difference.crop((left, top, left + tile, top + tile)).histogram()
            worst = max(worst, sum(i * n for i, n in enumerate(histogram)) / sum(histogram))
    return worst


# --- the tags --------------------------------------------------------------------------------


def test_the_page_carries_og_and_twitter_tags(client, certificate):
    page = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    tags = meta(page)
    url = services.verify_url(certificate.verification_code)

    assert tags["og:title"] == f"Certificate {certificate.registry_number} of 欧阳娜娜 OUYANG Nana: valid"
    assert tags["og:description"].startswith("Investment Ecosystem: 72 academic hours, ")
    assert "Peter the Great St. Petersburg Polytechnic University" in tags["og:description"]
    assert tags["og:description"].endswith("; valid.")
    assert tags["og:url"] == url
    assert tags["og:image"] == url + ".png" and tags["og:image"].startswith("http://portal.test/")
    assert tags["og:image:type"] == "image/png" and tags["og:image:width"] == "1200"
    assert tags["twitter:card"] == "summary_large_image"
    for name in ("title", "description", "image"):
        assert tags[f"twitter:{name}"] == tags[f"og:{name}"], name
    # the page shows the same picture, which is what WeChat takes for a shared link
    assert f'<img src="/verify/{certificate.verification_code}.png" width="1200"' in page


def test_the_card_names_the_programme_in_the_readers_language(client, certificate):
    page = client.get(f"/verify/{certificate.verification_code}",
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    # the programme first, as Chinese quotes it
    assert meta(page)["og:description"].startswith("“投资生态系统”")
    assert meta(page)["og:locale"] == "zh_CN"


def test_a_name_with_markup_and_quotes_is_escaped_in_every_tag(client, coordinator):
    hostile = 'Na"na\' <script>alert(1)</script>'
    certificate = issue(coordinator, given_name_latin=hostile)
    page = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)

    assert "<script>alert(1)" not in page
    head = page.split("</head>")[0]
    tags = meta(head)  # found only if no quote ended an attribute early
    assert f"OUYANG {hostile}" in tags["og:title"]
    assert f"OUYANG {hostile}" in tags["twitter:title"]
    assert "&lt;script&gt;" in head and "&#34;" in head


# --- the picture ------------------------------------------------------------------------------


def test_the_picture_is_the_pdfs_first_page(client, certificate, coordinator, tmp_path,
                                             poppler):
    response = client.get(f"/verify/{certificate.verification_code}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    card = grey(response.data)
    assert card.width == sharecard.SHARE_WIDTH

    same = poppler_render(certificate.pdf, card.width, tmp_path, poppler["pdftoppm"])
    assert worst_tile(card, same) < SAME_PAGE_TILE_DIFFERENCE
    # and the comparison tells another certificate apart
    other = issue(coordinator, "IS", family_name_zh="司马", given_name_zh="玥",
                  family_name_latin="Sima", given_name_latin="Yue")
    (tmp_path / "other").mkdir()
    different = poppler_render(other.pdf, card.width, tmp_path / "other", poppler["pdftoppm"])
    assert worst_tile(card, different) > SAME_PAGE_TILE_DIFFERENCE * 1.5


def test_the_picture_is_rendered_once_and_kept_under_the_pdfs_hash(client, certificate, app,
                                                                     monkeypatch):
    url = f"/verify/{certificate.verification_code}.png"
    first = client.get(url)
    kept = Path(app.instance_path) / "share-cards" / f"{certificate.pdf_sha256}-1200.png"
    assert kept.read_bytes() == first.data

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(sharecard, "render_first_page", no_render)
    again = client.get(url)
    assert again.data == first.data
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert "noindex" in again.headers["X-Robots-Tag"]


def _band_share(png: bytes, colour: tuple[int, int, int]) -> float:
    """The share of a row across the band, above its words, that is the band's colour."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    y = image.height // 2 - image.height // 16
    row = [image.getpixel((x, y)) for x in range(0, image.width, 4)]
    near = [p for p in row if all(abs(p[i] - colour[i]) < 60 for i in range(3))]
    return len(near) / len(row)


def test_a_revoked_certificates_card_says_revoked(client, certificate, coordinator):
    valid_png = client.get(f"/verify/{certificate.verification_code}.png").data
    services.revoke(certificate, coordinator, "Issued by mistake")
    db.session.commit()

    tags = meta(client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True))
    assert tags["og:title"].endswith(": revoked")
    assert "REVOKED on " in tags["og:description"]
    assert tags["og:description"].endswith("no longer valid.")
    revoked_png = client.get(f"/verify/{certificate.verification_code}.png").data
    assert revoked_png != valid_png
    red = sharecard.BANDS[certificate.status][1]
    assert _band_share(revoked_png, red) > 0.5 > _band_share(valid_png, red)


def test_a_superseded_certificates_card_names_the_replacement(client, certificate, coordinator):
    new = services.reissue(certificate, coordinator, "Name corrected")
    db.session.commit()

    tags = meta(client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True))
    assert tags["og:title"].endswith(": superseded")
    assert f"by certificate {new.registry_number}: no longer valid." in tags["og:description"]
    png = client.get(f"/verify/{certificate.verification_code}.png").data
    assert _band_share(png, sharecard.BANDS[certificate.status][1]) > 0.5


def test_no_picture_while_the_pdf_is_being_made(client, certificate):
    certificate.pdf, certificate.pdf_sha256, certificate.pdf_size = b"", "", 0
    db.session.commit()

    tags = meta(client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True))
    assert "og:image" not in tags and tags["twitter:card"] == "summary"
    assert client.get(f"/verify/{certificate.verification_code}.png").status_code == 503


# --- the teacher's picture ----------------------------------------------------------------------


def _qr_modules_read(png: bytes, pdf: bytes, url: str) -> tuple[float, float]:
    """(pixels per module, share of modules read right) of the QR code in the picture, sampled
    at each module's centre where the PDF places the code."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    document = pdfium.PdfDocument(pdf)
    page = document[0]
    page_width, page_height = page.get_size()
    (qr,) = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=5)
    left, bottom, right, top = qr.get_bounds()
    document.close()

    image = Image.open(io.BytesIO(png)).convert("L")
    scale = image.width / page_width
    matrix = [list(row) for row in segno.make(url, error="m", micro=False).matrix_iter(
        border=QUIET_ZONE)]
    module = (right - left) * scale / len(matrix)
    x0, y0 = left * scale, (page_height - top) * scale
    right_ones = sum(
        (image.getpixel((int(x0 + (c + 0.5) * module), int(y0 + (r + 0.5) * module))) < 128)
        == bool(dark)
        for r, row in enumerate(matrix) for c, dark in enumerate(row))
    return module, right_ones / (len(matrix) ** 2)


def test_the_teacher_saves_a_full_size_picture_with_a_legible_qr_code(client, certificate, db):
    teacher = certificate.application.teacher
    with client.session_transaction() as session:
        session["_user_id"] = teacher.get_id()
        session["_fresh"] = True

    page = client.get("/certificates").get_data(as_text=True)
    link = f"/certificates/{certificate.id}/png"
    assert f'href="{link}">Save as picture</a>' in page
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "image/png"
    # shown in the browser (press and hold to save), under a readable name
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline") and ".png" in disposition
    assert "private" in response.headers["Cache-Control"]
    assert Image.open(io.BytesIO(response.data)).width == sharecard.FULL_WIDTH

    module, read = _qr_modules_read(response.data, certificate.pdf,
                                    services.verify_url(certificate.verification_code))
    assert module >= 3, f"{module:.1f} pixels per module is too small for a phone's camera"
    assert read > 0.99


def test_another_teacher_gets_no_picture(client, certificate, db):
    other = factories.make_teacher()
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = other.get_id()
        session["_fresh"] = True
    assert client.get(f"/certificates/{certificate.id}/png").status_code == 404
