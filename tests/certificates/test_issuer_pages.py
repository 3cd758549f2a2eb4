"""The admin pages of who issues and who signs certificates: organisation, signatories, images."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from course_portal.catalog.models import Institute
from course_portal.certificates import issuer
from course_portal.certificates.models import IssuingOrganisation, Signatory, SignatoryRole
from course_portal.core.audit import AuditEvent
from course_portal.extensions import db

R = SignatoryRole

ORGANISATION = {
    "full_name_ru": "ФГАОУ ВО «Санкт-Петербургский политехнический университет Петра Великого»",
    "full_name_en": "Peter the Great St. Petersburg Polytechnic University (SPbPU)",
    "full_name_zh": "彼得大帝圣彼得堡国立理工大学",
    "city_ru": "Санкт-Петербург",
    "city_en": "St. Petersburg",
    "city_zh": "圣彼得堡",
}
RECTOR = {
    "name_ru": "Сидоров С. С.", "name_en": "Sergey Sidorov", "name_zh": "西多罗夫",
    "position_ru": "Проректор по международной деятельности",
    "position_en": "Vice-Rector for International Affairs", "position_zh": "负责国际事务的副校长",
    "authority_ru": "по доверенности № 12 от 1 сентября 2026 г.",
    "authority_en": "by power of attorney No. 12 of 1 September 2026",
    "authority_zh": "根据2026年9月1日第12号委托书",
}
DIRECTOR = {
    "name_ru": "Петров П. П.", "name_en": "Pyotr Petrov", "name_zh": "彼得罗夫",
    "position_ru": "Директор института", "position_en": "Director of the Institute",
    "position_zh": "学院院长",
    "authority_ru": "", "authority_en": "", "authority_zh": "",
}
HOSTILE = {
    "long": "Я" * 10_000,
    "nul": "Иванов\x00Иван",
    "html": "<script>alert(1)</script>",
    "template": "{{ 7*7 }}",
}


def png(size=(1200, 400), text: str | None = None, colour=(20, 40, 160, 255)) -> bytes:
    """A PNG made with Pillow; with text, a tEXt chunk carries it."""
    image = Image.new("RGBA", size, colour)
    buffer = io.BytesIO()
    info = None
    if text is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", text)
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def jpeg() -> bytes:
    """A real JPEG, to be sent under a .png name."""
    buffer = io.BytesIO()
    Image.new("RGB", (300, 120), (200, 10, 10)).save(buffer, "JPEG")
    return buffer.getvalue()


def upload(data: bytes, name: str = "signature.png", content_type: str = "image/png"):
    """A file part of a multipart POST, as the test client takes it."""
    return (io.BytesIO(data), name, content_type)


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def institute(db):
    found = Institute(name_en="Institute of Industrial Management, Economics and Trade",
                      name_ru="Институт промышленного менеджмента, экономики и торговли",
                      name_zh="工业管理、经济与贸易学院")
    db.session.add(found)
    db.session.commit()
    return found


def _page(response) -> str:
    return response.get_data(as_text=True)


def _actions(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def _signatory(role, institute_id=None) -> Signatory | None:
    db.session.expire_all()
    return issuer.signatory(role, institute_id)


def _organisation() -> IssuingOrganisation | None:
    db.session.expire_all()
    return db.session.get(IssuingOrganisation, 1)


def _organisation_state() -> dict | None:
    """The organisation's row as values (the migration seeds it; a test may start without it)."""
    row = _organisation()
    if row is None:
        return None
    return {name: getattr(row, name) for name in (*ORGANISATION, "seal_sha256")}


# --- who may open the pages -------------------------------------------------------------------


def test_coordinators_and_teachers_get_403_on_every_issuer_page(client, login_as, institute):
    before = _organisation_state()
    urls = ["/certificates/issuer", "/certificates/issuer/signatories/rector",
            f"/certificates/issuer/signatories/director/{institute.id}",
            "/certificates/issuer/images/seal/1.png"]
    for url in urls:
        assert client.get(url).status_code == 302, url  # anonymous: to sign in
    for role in ("coordinator", "teacher"):
        login_as(role)
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
        assert client.post("/certificates/issuer", data=ORGANISATION).status_code == 403
        assert client.post("/certificates/issuer/signatories/rector",
                           data=RECTOR).status_code == 403
    assert _organisation_state() == before and _signatory(R.RECTOR) is None


def test_only_admins_see_the_link_in_the_certificates_navigation(client, login_as):
    login_as("coordinator")
    assert "Signatories and seal" not in _page(client.get("/certificates/manage/registry"))
    login_as("admin")
    page = _page(client.get("/certificates/manage/registry"))
    assert 'href="/certificates/issuer"' in page and "Signatories and seal" in page


# --- the organisation ---------------------------------------------------------------------------


def test_an_admin_changes_the_organisations_names_and_city(client, admin):
    page = _page(client.get("/certificates/issuer"))
    assert issuer.DEFAULT_ORGANISATION["full_name_en"] in page  # the defaults until saved
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input[^>]*lang="ru"[^>]*name="full_name_ru"|'
                     r'<input[^>]*name="full_name_ru"[^>]*lang="ru"', page)
    assert re.search(r'<input[^>]*name="city_zh"[^>]*lang="zh"|'
                     r'<input[^>]*lang="zh"[^>]*name="city_zh"', page)
    assert "changes no certificate already issued" in page
    assert page.count("<h1") == 1

    response = client.post("/certificates/issuer", data=ORGANISATION)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/certificates/issuer")
    row = _organisation()
    assert {name: getattr(row, name) for name in ORGANISATION} == ORGANISATION
    [event] = _actions("issuer.organisation_changed")
    assert event.actor_id == admin.id and event.object_id == 1
    assert event.details["full_name_en"] == ORGANISATION["full_name_en"]
    assert event.details["city_en"] == "St. Petersburg"
    assert "city_ru" not in event.details  # unchanged from the default: not in the record
    assert "The organisation is saved" in _page(client.get("/certificates/issuer"))

    # saving again without a change writes no second audit row
    assert client.post("/certificates/issuer", data=ORGANISATION).status_code == 302
    assert len(_actions("issuer.organisation_changed")) == 1


def test_a_required_name_left_empty_is_refused_and_the_rest_is_kept(client, admin):
    before = _organisation_state()
    response = client.post("/certificates/issuer", data={**ORGANISATION, "city_en": ""})

    assert response.status_code == 400
    page = _page(response)
    assert "Some fields need attention" in page
    assert ORGANISATION["full_name_zh"] in page and "Санкт-Петербург" in page
    assert _organisation_state() == before


def test_a_seal_upload_is_stored_scaled_and_can_be_removed(client, admin):
    response = client.post("/certificates/issuer", data={
        **ORGANISATION, "seal": upload(png((900, 900), text="Created by a phone app"), "seal.png")})

    assert response.status_code == 302
    sha, stored = issuer.seal_image()
    assert stored and sha == hashlib.sha256(stored).hexdigest()
    assert b"Created by a phone app" not in stored and b"tEXt" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == issuer.SEAL_BOX
    assert len(_actions("issuer.seal_image_changed")) == 1

    page = _page(client.get("/certificates/issuer"))
    assert 'src="/certificates/issuer/images/seal/1.png"' in page
    served = client.get("/certificates/issuer/images/seal/1.png")
    assert served.status_code == 200 and served.data == stored
    assert served.mimetype == "image/png"

    # choosing a new image and removing it at once cannot be guessed: asked, nothing changes
    both = client.post("/certificates/issuer", data={
        **ORGANISATION, "remove_seal": "y", "seal": upload(png((100, 100)), "seal.png")})
    assert both.status_code == 400 and "not both" in _page(both)
    assert issuer.seal_image()[0] == sha

    assert client.post("/certificates/issuer",
                       data={**ORGANISATION, "remove_seal": "y"}).status_code == 302
    assert issuer.seal_image() == ("", None)
    assert client.get("/certificates/issuer/images/seal/1.png").status_code == 404
    assert "М. П." in _page(client.get("/certificates/issuer"))


def test_a_refused_seal_keeps_the_typed_names_and_saves_nothing(client, admin):
    before = _organisation_state()
    typed = {**ORGANISATION, "city_en": "Saint-Petersburg, Russia"}
    response = client.post("/certificates/issuer",
                           data={**typed, "seal": upload(jpeg(), "seal.png")})

    assert response.status_code == 400
    page = _page(response)
    assert "Upload a PNG image" in page
    assert "Saint-Petersburg, Russia" in page
    assert _organisation_state() == before  # the names were rolled back with the refused image
    assert _actions("issuer.organisation_changed") == []


def test_a_chosen_image_must_be_chosen_again_when_the_form_returns(client, admin):
    response = client.post("/certificates/issuer/signatories/rector",
                           data={**RECTOR, "name_en": "", "signature": upload(png())})

    assert response.status_code == 400
    assert "Choose the image again" in _page(response)
    assert _signatory(R.RECTOR) is None


# --- the signature lines ------------------------------------------------------------------------


def test_the_issuer_page_lists_the_rector_the_secretary_and_a_director_per_institute(
        client, admin, institute, db):
    other = Institute(name_en="Higher School of Engineering", name_ru="Высшая инженерная школа",
                      name_zh="高等工程学院")
    db.session.add(other)
    db.session.commit()

    page = _page(client.get("/certificates/issuer"))

    assert 'href="/certificates/issuer/signatories/rector"' in page
    assert 'href="/certificates/issuer/signatories/secretary"' in page
    assert f'href="/certificates/issuer/signatories/director/{institute.id}"' in page
    assert f'href="/certificates/issuer/signatories/director/{other.id}"' in page
    assert "Higher School of Engineering" in page and institute.name_en in page
    assert page.count("Not set: certificates that need this line cannot be issued yet.") == 4


def test_an_admin_sets_the_rector_with_the_words_of_the_order_and_a_director(
        client, admin, institute):
    page = _page(client.get("/certificates/issuer/signatories/rector"))
    assert "по доверенности № 12 от 1 сентября 2026 г." in page  # the hint
    assert "changes no certificate already issued" in page

    response = client.post("/certificates/issuer/signatories/rector", data=RECTOR)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/certificates/issuer")
    response = client.post(f"/certificates/issuer/signatories/director/{institute.id}",
                           data=DIRECTOR)
    assert response.status_code == 302

    rector = _signatory(R.RECTOR)
    assert {name: getattr(rector, name) for name in RECTOR} == RECTOR
    assert rector.institute_id is None and rector.slot == "rector"
    director = _signatory(R.DIRECTOR, institute.id)
    assert director.name_en == "Pyotr Petrov" and director.authority_ru == ""
    assert director.slot == f"director:{institute.id}"
    events = _actions("issuer.signatory_changed")
    assert [e.details["role"] for e in events] == ["rector", "director"]
    assert events[0].actor_id == admin.id
    assert events[0].details["authority_ru"] == RECTOR["authority_ru"]

    listing = _page(client.get("/certificates/issuer"))
    assert "Сидоров С. С." in listing and "Петров П. П." in listing
    assert "по доверенности № 12" in listing
    # the form shows what is saved
    again = _page(client.get("/certificates/issuer/signatories/rector"))
    assert 'value="Сидоров С. С."' in again


def test_unknown_lines_and_institutes_are_404(client, admin, institute):
    for url in ("/certificates/issuer/signatories/dean",
                "/certificates/issuer/signatories/director",
                "/certificates/issuer/signatories/RECTOR",
                f"/certificates/issuer/signatories/director/{institute.id + 100}",
                "/certificates/issuer/signatories/director/0"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, data=RECTOR).status_code == 404, url
    assert db.session.scalars(select(Signatory)).all() == []


def test_a_png_signature_is_stored_re_encoded_without_metadata_and_scaled(client, admin):
    uploaded = png((1200, 400), text="GPS 59.93N 30.31E, Canon scanner")

    response = client.post("/certificates/issuer/signatories/rector",
                           data={**RECTOR, "signature": upload(uploaded)})

    assert response.status_code == 302
    row = _signatory(R.RECTOR)
    stored = row.signature_png
    assert stored != uploaded
    assert b"tEXt" not in stored and b"Canon scanner" not in stored
    assert row.signature_sha256 == hashlib.sha256(stored).hexdigest()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG"
        width, height = image.size
    box_width, box_height = issuer.SIGNATURE_BOX
    assert width <= box_width and height <= box_height
    assert (width, height) == (600, 200)  # the proportions kept
    [event] = _actions("issuer.signature_image_changed")
    assert event.details["sha256"] == row.signature_sha256

    listing = _page(client.get("/certificates/issuer"))
    assert f'src="/certificates/issuer/images/signature/{row.id}.png"' in listing
    assert 'alt="Signature of Сидоров С. С."' in listing


@pytest.mark.parametrize(("name", "data", "message"), [
    ("jpeg renamed", jpeg(), "Upload a PNG image"),
    ("html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
     "Upload a PNG image"),
    ("html in a png", png()[:33] + b"<html><script>alert(1)</script></html>" + png()[33:],
     "web page (HTML)"),
    ("empty", b"", "The file is empty"),
    ("3 MB", b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024), "larger than 2 MB"),
    ("damaged", png()[:200], "damaged or incomplete"),
    ("text", "Подпись".encode(), "Upload a PNG image"),
], ids=lambda value: value if isinstance(value, str) and len(value) < 20 else "")
def test_a_refused_signature_says_why_and_keeps_the_typed_names(client, admin, institute,
                                                                name, data, message):
    typed = {**DIRECTOR, "name_ru": "Кузнецова А. В.", "name_en": "Anna Kuznetsova"}
    url = f"/certificates/issuer/signatories/director/{institute.id}"

    response = client.post(url, data={**typed, "signature": upload(data, "signature.png")})

    assert response.status_code == 400
    page = _page(response)
    assert message in page
    assert re.search(r'class="field[^"]*has-error">\s*<label for="signature"', page), \
        "the message belongs on the file field"
    assert 'value="Кузнецова А. В."' in page and 'value="Anna Kuznetsova"' in page
    assert _signatory(R.DIRECTOR, institute.id) is None  # the names were not saved either
    assert _actions("issuer.signatory_changed") == []


def test_removing_the_signature_image_keeps_the_signatory(client, admin):
    client.post("/certificates/issuer/signatories/secretary",
                data={**DIRECTOR, "position_en": "Secretary", "signature": upload(png())})
    row = _signatory(R.SECRETARY)
    assert row.signature_png
    page = _page(client.get("/certificates/issuer/signatories/secretary"))
    assert 'name="remove_signature"' in page
    assert f'src="/certificates/issuer/images/signature/{row.id}.png"' in page

    response = client.post("/certificates/issuer/signatories/secretary",
                           data={**DIRECTOR, "position_en": "Secretary",
                                 "remove_signature": "y"})

    assert response.status_code == 302
    row = _signatory(R.SECRETARY)
    assert row.signature_png is None and row.signature_sha256 == ""
    assert row.name_ru == DIRECTOR["name_ru"]
    assert client.get(f"/certificates/issuer/images/signature/{row.id}.png").status_code == 404
    assert 'name="remove_signature"' not in _page(
        client.get("/certificates/issuer/signatories/secretary"))
    assert [e.details["sha256"] for e in _actions("issuer.signature_image_changed")][-1] is None


# --- hostile and unusual input ------------------------------------------------------------------


@pytest.mark.parametrize("payload", list(HOSTILE))
@pytest.mark.parametrize("field", list(RECTOR))
def test_hostile_text_in_a_signatory_field_is_refused_on_the_form(client, admin, field,
                                                                  payload):
    value = HOSTILE[payload]

    response = client.post("/certificates/issuer/signatories/rector",
                           data={**RECTOR, field: value})

    assert response.status_code == 400
    page = _page(response)
    assert "Some fields need attention" in page
    assert "<script>alert(1)" not in page
    assert 'value="49"' not in page  # the template payload is never evaluated
    if payload in ("html", "template"):
        assert "cannot contain" in page
        assert ("&lt;script&gt;" if payload == "html" else "{{ 7*7 }}") in page  # kept, escaped
    assert _signatory(R.RECTOR) is None


@pytest.mark.parametrize("payload", list(HOSTILE))
@pytest.mark.parametrize("field", list(ORGANISATION))
def test_hostile_text_in_an_organisation_field_is_refused_on_the_form(client, admin, field,
                                                                      payload):
    before = _organisation_state()
    response = client.post("/certificates/issuer", data={**ORGANISATION, field: HOSTILE[payload]})

    assert response.status_code == 400
    assert "<script>alert(1)" not in _page(response)
    assert _organisation_state() == before


def test_chinese_and_cyrillic_are_accepted_where_they_belong(client, admin):
    response = client.post("/certificates/issuer/signatories/rector", data={
        **RECTOR, "name_ru": "Ёлкина-Щукина Э. Ю.", "name_zh": "欧阳·娜娜",
        "position_zh": "校长（代理）", "position_ru": "И. о. ректора"})

    assert response.status_code == 302
    row = _signatory(R.RECTOR)
    assert row.name_ru == "Ёлкина-Щукина Э. Ю." and row.name_zh == "欧阳·娜娜"
    assert row.position_zh == "校长（代理）"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name_zh", "Иванов", "Chinese characters"),
    ("name_ru", "Ivanov I. I.", "Cyrillic letters"),
    ("name_en", "伊万诺夫", "Latin letters"),
    ("name_ru", "Иванов\u202eИ", "direction control"),
])
def test_a_name_in_the_wrong_script_gets_a_message(client, admin, field, value, message):
    response = client.post("/certificates/issuer/signatories/rector",
                           data={**RECTOR, field: value})

    assert response.status_code == 400
    assert message in _page(response)
    assert _signatory(R.RECTOR) is None


@pytest.mark.parametrize(("url", "filling", "field"), [
    ("/certificates/issuer/signatories/rector", RECTOR, "name_ru"),
    ("/certificates/issuer/signatories/rector", RECTOR, "authority_en"),
    ("/certificates/issuer", ORGANISATION, "full_name_en"),
])
def test_a_text_field_posted_as_a_file_gets_a_message(client, admin, url, filling, field):
    before = _organisation_state()
    response = client.post(url, data={**filling,
                                      field: (io.BytesIO(b"x" * 50_000), "name.txt", "text/plain")})

    assert response.status_code == 400
    page = _page(response)
    assert "This field takes text, not a file." in page
    assert "FileStorage" not in page
    assert _signatory(R.RECTOR) is None and _organisation_state() == before


def test_a_text_posted_in_the_file_field_is_no_image(client, admin):
    response = client.post("/certificates/issuer/signatories/rector",
                           data={**RECTOR, "signature": "iVBORw0KGgo="})

    assert response.status_code == 302
    assert _signatory(R.RECTOR).signature_png is None


def test_the_form_refuses_a_missing_csrf_token_and_keeps_what_was_typed(make_app):
    from course_portal.accounts.session import start_clock
    from tests import factories

    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        user = factories.make_user(role="admin")
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            start_clock(session)

        response = client.post("/certificates/issuer/signatories/rector", data=RECTOR)

        assert response.status_code == 400
        page = _page(response)
        assert "This form had expired" in page and 'value="Сидоров С. С."' in page
        assert db.session.scalars(select(Signatory)).all() == []


# --- the image route ----------------------------------------------------------------------------


def test_the_image_route_serves_the_stored_png_privately(client, admin, institute):
    client.post("/certificates/issuer/signatories/rector",
                data={**RECTOR, "signature": upload(png())})
    client.post(f"/certificates/issuer/signatories/director/{institute.id}", data=DIRECTOR)
    rector, director = _signatory(R.RECTOR), _signatory(R.DIRECTOR, institute.id)

    response = client.get(f"/certificates/issuer/images/signature/{rector.id}.png")

    assert response.status_code == 200
    assert response.data == rector.signature_png
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for url in (f"/certificates/issuer/images/signature/{director.id}.png",  # no image
                f"/certificates/issuer/images/signature/{rector.id + 100}.png",
                f"/certificates/issuer/images/stamp/{rector.id}.png",
                "/certificates/issuer/images/seal/1.png",  # no seal yet
                "/certificates/issuer/images/seal/2.png"):
        assert client.get(url).status_code == 404, url
