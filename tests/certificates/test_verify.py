"""Public verification: by code, number or QR URL; every field, the status, JSON, the rate limit."""

from __future__ import annotations

import io
from datetime import date

import pytest
from babel.dates import format_date
from pypdf import PdfReader

from course_portal.certificates import services
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake


@pytest.fixture
def coordinator(db):
    return factories.make_user(role="coordinator")


@pytest.fixture
def certificate(db, coordinator):
    intake = make_finished_intake()
    application = make_completed(
        intake, family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
        given_name_latin="Nana", name_ru="Оуян Нана", phone="+86 138 0000 1234",
        wechat_id="nana_wechat", email="nana@example.edu.cn",
    )
    issued = services.issue_certificate(application, coordinator)
    db.session.commit()
    return issued


def test_the_page_shows_every_field_the_status_and_the_checksum(client, certificate):
    response = client.get(f"/verify/{certificate.verification_code}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    s = certificate.snapshot
    for key in ("registry_number", "name_zh", "name_latin", "name_ru", "partner_university_en",
                "partner_university_zh", "program_title_ru", "program_title_en",
                "program_title_zh", "institute_name_ru", "institute_name_en",
                "institute_name_zh", "starts_on", "ends_on", "issued_on", "issued_by",
                "university_name_zh"):
        assert str(s[key]) in page, key
    assert f"<dd>{s['hours']}</dd>" in page
    assert "Valid" in page
    # dates read in the reader's format, with the ISO date kept for machines
    assert f'<time datetime="{s["issued_on"]}">' in page
    assert format_date(date.fromisoformat(s["issued_on"]), "medium", locale="en") in page
    # printed in four breakable pieces, which copy as one
    assert certificate.pdf_sha256 in page.replace("<wbr>", "")


def test_nothing_else_about_the_teacher_is_shown(client, certificate):
    for url in (f"/verify/{certificate.verification_code}",
                f"/verify/{certificate.verification_code}.json"):
        body = client.get(url).get_data(as_text=True)
        for private in ("nana@example.edu.cn", "138 0000 1234", "nana_wechat",
                        "School of Foreign Languages"):
            assert private not in body, (url, private)


def test_the_json_gives_the_same_record(client, certificate):
    response = client.get(f"/verify/{certificate.verification_code}.json")

    assert response.status_code == 200 and response.is_json
    record = response.get_json()
    assert record["status"] == "valid" and record["valid"] is True
    assert record["certificate"] == certificate.snapshot
    assert record["pdf_sha256"] == certificate.pdf_sha256
    assert record["verify_url"] == services.verify_url(certificate.verification_code)
    assert record["revoked_at"] is None and record["superseded_by"] is None


def test_a_revoked_certificate_says_when_and_why(client, certificate, coordinator):
    services.revoke(certificate, coordinator, "Attendance records were falsified")
    db.session.commit()

    page = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    assert "Revoked" in page and "Valid" not in page
    assert "Attendance records were falsified" in page
    assert certificate.revoked_at.strftime("%Y") in page
    record = client.get(f"/verify/{certificate.verification_code}.json").get_json()
    assert record["status"] == "revoked" and record["valid"] is False
    assert record["revoked_reason"] == "Attendance records were falsified"
    assert record["revoked_at"].startswith(certificate.revoked_at.date().isoformat())


def test_a_superseded_certificate_names_its_replacement(client, certificate, coordinator):
    new = services.reissue(certificate, coordinator, "Russian spelling corrected")
    db.session.commit()

    page = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    assert "Superseded" in page and new.registry_number in page
    assert f"/verify/{new.verification_code}" in page
    assert "Russian spelling corrected" in page
    record = client.get(f"/verify/{certificate.verification_code}.json").get_json()
    assert record["superseded_by"]["registry_number"] == new.registry_number
    new_record = client.get(f"/verify/{new.verification_code}.json").get_json()
    assert new_record["replaces"]["registry_number"] == certificate.registry_number
    assert new_record["reissue_reason"] == "Russian spelling corrected"


def test_the_number_or_the_code_typed_opens_the_page(client, certificate):
    for typed in (certificate.registry_number, certificate.registry_number.lower() + " ",
                  certificate.verification_code):
        response = client.get("/verify", query_string={"q": typed})
        assert response.status_code == 302, typed
        assert response.headers["Location"].endswith(f"/verify/{certificate.verification_code}")


def test_an_unknown_number_or_code_is_not_found(client, certificate):
    response = client.get("/verify", query_string={"q": "IE-2026-9999"})
    assert response.status_code == 404
    assert "No certificate has this number or code" in response.get_data(as_text=True)
    assert client.get("/verify/" + "x" * 32).status_code == 404
    assert client.get("/verify/" + "x" * 32 + ".json").status_code == 404
    assert client.get("/verify/%3Cscript%3E").status_code == 404


def test_the_certificate_prints_its_verification_url(certificate):
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(certificate.pdf)).pages)
    assert services.verify_url(certificate.verification_code) in text.replace("\n", "")


def test_the_search_page_opens_without_signing_in(client):
    response = client.get("/verify")
    assert response.status_code == 200
    assert "Registry number or verification code" in response.get_data(as_text=True)


def test_30_requests_a_minute_then_429(make_app, certificate):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    url = f"/verify/{certificate.verification_code}"
    codes = [client.get(url if i % 2 else url + ".json").status_code for i in range(30)]
    assert set(codes) == {200}
    response = client.get("/verify")
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_verification_pages_ask_search_engines_not_to_index(client, certificate):
    for url in ("/verify", f"/verify/{certificate.verification_code}",
                f"/verify/{certificate.verification_code}.json"):
        assert "noindex" in client.get(url).headers.get("X-Robots-Tag", ""), url


def test_the_subtitle_names_each_title_once_the_readers_language_first(client, certificate):
    import re

    titles = {"en": "Certificate of advanced training",
              "ru": "Удостоверение о повышении квалификации", "zh": "进修结业证书"}
    for language in ("en", "zh", "ru"):
        page = client.get(f"/verify/{certificate.verification_code}",
                          headers={"Accept-Language": language}).get_data(as_text=True)
        subtitle = re.search(r'<p class="meta">(.*?)</p>', page, re.S).group(1)
        shown = re.findall(r"<span lang=\"[^\"]+\">([^<]+)</span>", subtitle)
        assert shown[0] == titles[language]
        assert sorted(shown) == sorted(titles.values())  # each once


def test_the_teachers_certificates_page_names_the_programme_in_their_language_first(
        client, login_as, db):
    from course_portal.certificates import services
    from tests.certificates.helpers import make_completed, make_finished_intake

    teacher = login_as("teacher", locale="ru")
    services.issue_certificate(make_completed(make_finished_intake(), teacher=teacher), None)
    db.session.commit()

    page = client.get("/certificates").get_data(as_text=True)
    heading = page[page.index("<h2>"):page.index("</h2>")]
    assert heading.index("Инвестиционная экосистема") < heading.index("Investment Ecosystem")
    assert heading.index("Investment Ecosystem") < heading.index("投资生态系统")
