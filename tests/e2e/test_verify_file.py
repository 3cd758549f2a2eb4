"""In a browser: a visitor checks a certificate's PDF on /verify, on a desktop and on a phone;
the verification page shows the share card; the teacher opens the picture to save it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from course_portal.certificates import services
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake
from tests.e2e.conftest import finish_sign_in


def _certificate(live_server):
    with live_server.app_context():
        teacher = factories.make_teacher(
            email="ouyang.nana@example.edu.cn", family_name_zh="欧阳", given_name_zh="娜娜",
            family_name_latin="Ouyang", given_name_latin="Nana")
        application = make_completed(make_finished_intake(), teacher=teacher)
        certificate = services.issue_certificate(
            application, factories.make_user(role="coordinator"))
        db.session.commit()
        return (certificate.id, certificate.registry_number, certificate.verification_code,
                certificate.pdf)


def test_a_visitor_checks_the_pdf_and_a_picture_is_refused(live_server, page, phone_page):
    _id, number, code, pdf = _certificate(live_server)

    page.goto(live_server.url + "/verify")
    field = page.get_by_label("The certificate's PDF file")
    # the input is the drop target: large enough to aim a dragged file at
    assert field.bounding_box()["height"] >= 80
    field.set_input_files(files=[{"name": "certificate.pdf", "mimeType": "application/pdf",
                                  "buffer": pdf}])
    page.get_by_role("button", name="Check the file").click()
    status = page.get_by_role("status").filter(has_text=number)
    expect(status).to_contain_text("Valid")
    expect(status).to_contain_text(re.compile(
        rf"This file is certificate {number}, valid, issued .+ to 欧阳娜娜 OUYANG Nana\."))
    page.get_by_role("link", name=f"Every field of certificate {number}").click()
    expect(page).to_have_url(re.compile(rf"/verify/{code}$"))
    # the share card on the page loads (the page's own host, as the CSP allows)
    picture = page.get_by_role("img", name=f"The first page of certificate {number}")
    picture.scroll_into_view_if_needed()
    expect(picture).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture
                           .element_handle())
    assert picture.evaluate("img => img.naturalWidth") == 1200

    phone_page.goto(live_server.url + "/verify")
    phone_page.locator("#verify-file-input").set_input_files(files=[{
        "name": "证书.pdf", "mimeType": "application/pdf",
        "buffer": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 500}])
    phone_page.locator("form#check-file button[type=submit]").click()
    expect(phone_page.get_by_role("alert")).to_contain_text("JPEG")


def test_the_teacher_opens_the_picture_of_the_certificate(live_server, page):
    certificate_id, number, _code, _pdf = _certificate(live_server)

    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill("ouyang.nana@example.edu.cn")
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, "ouyang.nana@example.edu.cn")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My certificates").click()
    with page.expect_response(re.compile(rf"/certificates/{certificate_id}/png$")) as answer:
        page.get_by_role("link", name="Save as picture").click()
    assert answer.value.headers["content-type"] == "image/png"
    # the browser shows the picture itself, which a phone saves with a long press
    size = page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]")
    assert size[0] == 2000 and size[1] > 1000
