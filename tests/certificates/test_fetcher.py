"""Safe rendering: autoescaped names fetch and attach nothing; the fetcher serves only static files."""

from __future__ import annotations

import base64
import io
import os

import pytest
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse
from weasyprint.urls import fetch as weasyprint_fetch

from course_portal.certificates import pdf
from course_portal.certificates.fetcher import STATIC_DIR, StaticOnlyURLFetcher, URLRefused
from course_portal.certificates.pdf import render_certificate, render_html
from course_portal.certificates.specimen import specimen_snapshot
from tests.certificates.conftest import VERIFY_URL

PASSWD = "file:///etc/passwd"


def attachments_of(data: bytes) -> list:
    """Embedded files and file-attachment annotations of a PDF."""
    reader = PdfReader(io.BytesIO(data))
    found = list(reader.attachments)
    names = reader.trailer["/Root"].get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        found.append("/EmbeddedFiles")
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                found.append(annot)
    return found


def image_count(data: bytes) -> int:
    """Image XObjects on the first page (the QR code is one)."""
    resources = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
    xobjects = resources.get("/XObject", {})
    return sum(1 for ref in xobjects.values() if ref.get_object().get("/Subtype") == "/Image")


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the certificate engine's fetcher is asked for, in order."""
    engine = pdf._engine()
    urls = []
    real_fetch = engine.fetcher.fetch

    def spy(url, headers=None):
        urls.append(url)
        return real_fetch(url, headers)

    monkeypatch.setattr(engine.fetcher, "fetch", spy)
    return urls


@pytest.mark.parametrize(
    "field",
    ["name_latin", "name_ru", "partner_university_en", "program_title_en", "city_ru"],
)
@pytest.mark.parametrize(
    "payload",
    [
        f"<img src={PASSWD}>",
        f"<link rel=attachment href={PASSWD}>",
        "<img src=http://127.0.0.1:{port}/>",
        "<style>@import url(http://127.0.0.1:{port}/x.css);</style>",
    ],
)
def test_markup_in_a_snapshot_is_printed_not_fetched(field, payload, http_server, fetched):
    text = payload.format(port=http_server.port)
    snapshot = specimen_snapshot(**{field: text})

    html = render_html(snapshot, VERIFY_URL)
    assert text not in html
    assert text.replace("<", "&lt;").replace(">", "&gt;") in html

    data = render_certificate(snapshot, VERIFY_URL)
    assert http_server.requests == []
    assert fetched and all(url.startswith("data:") for url in fetched), fetched
    assert attachments_of(data) == []
    assert image_count(data) == 1  # the QR code, nothing else
    squeezed = "".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "".join(text.split()) in squeezed


def test_unescaped_markup_still_reaches_nothing(http_server):
    # the next mistake (a |safe, a template outside autoescaping) meets the fetcher
    hostile = (
        f"<p>x</p><img src={PASSWD}><link rel=attachment href={PASSWD}>"
        f"<img src=http://127.0.0.1:{http_server.port}/a.png>"
    )
    lenient = StaticOnlyURLFetcher()
    data = HTML(string=hostile, url_fetcher=lenient).write_pdf()
    assert attachments_of(data) == []
    assert http_server.requests == []

    strict = StaticOnlyURLFetcher(fail_on_errors=True)
    with pytest.raises(FatalURLFetchingError):
        HTML(string=hostile, url_fetcher=strict).write_pdf()
    assert http_server.requests == []


def test_a_refused_url_stops_the_certificate(monkeypatch):
    monkeypatch.setattr(
        pdf, "render_html", lambda *a, **k: f'<html><body><img src="{PASSWD}"></body></html>'
    )
    with pytest.raises(pdf.CertificateRenderError, match="passwd"):
        render_certificate(specimen_snapshot(), VERIFY_URL)


@pytest.mark.parametrize(
    "url",
    [
        PASSWD,
        "file://localhost/etc/passwd",
        "file://evil.example/share/x.png",
        STATIC_DIR.as_uri() + "/../config.py",
        STATIC_DIR.as_uri() + "/%2e%2e/%2e%2e/pyproject.toml",
        STATIC_DIR.as_uri() + "/css",  # a folder
        STATIC_DIR.as_uri() + "/no-such-file.png",
        "https://fonts.googleapis.com/css?family=Noto",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "about:blank",
        "relative/path.png",
    ],
)
def test_fetcher_refuses(url):
    fetcher = StaticOnlyURLFetcher()
    with pytest.raises(URLRefused):
        fetcher.fetch(url)
    with pytest.raises(URLRefused):
        fetcher(url)


def test_fetcher_refuses_http_without_a_request(http_server):
    fetcher = StaticOnlyURLFetcher()
    with pytest.raises(URLRefused):
        fetcher.fetch(f"http://127.0.0.1:{http_server.port}/")
    assert http_server.requests == []


def test_weasyprint_turns_a_refusal_into_a_fatal_error_when_asked():
    fetcher = StaticOnlyURLFetcher(fail_on_errors=True)
    with pytest.raises(FatalURLFetchingError):
        with weasyprint_fetch(fetcher, PASSWD):
            pass


def test_fetcher_serves_a_static_file():
    path = STATIC_DIR / "fonts" / "OFL.txt"
    response = StaticOnlyURLFetcher().fetch(path.as_uri())
    assert isinstance(response, URLFetcherResponse)
    assert response.read() == path.read_bytes()
    assert response.content_type == "text/plain"
    assert response.status == 200


def test_fetcher_serves_a_data_uri():
    uri = "data:text/plain;base64," + base64.b64encode("привет 你好".encode()).decode()
    response = StaticOnlyURLFetcher().fetch(uri)
    assert response.read().decode() == "привет 你好"


def test_symlinks_cannot_escape_the_folder(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (root / "inside.txt").write_text("ok")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, root / "link.txt")
    os.symlink(tmp_path, root / "up")
    fetcher = StaticOnlyURLFetcher(root=root)
    assert fetcher.fetch((root / "inside.txt").as_uri()).read() == b"ok"
    for name in ("link.txt", "up/secret.txt"):
        with pytest.raises(URLRefused):
            fetcher.fetch((root / name).as_uri())
