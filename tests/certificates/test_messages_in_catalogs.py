"""What a coordinator reads when a certificate, a batch or a report fails is in the portal's
catalogs, in their language; the English with the technical detail goes to the log only.

The signature's reason, which a PDF reader shows beside the signature, is in the three
languages of the certificate, from the same catalogs.
"""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from course_portal.certificates import jobs, services
from course_portal.certificates.pdf import (
    CertificateLayoutError,
    CertificateRenderError,
    UnrenderableText,
    _image_uri,
)
from course_portal.certificates.signing import make_dev_key_pair, sign_pdf, signature_words
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake
from tests.core.test_form_messages import in_catalog

LANGUAGES = ("en", "zh", "ru")


def render_error():
    try:
        _image_uri({}, "ab" * 32)
    except CertificateRenderError as exc:
        return exc
    raise AssertionError("a missing image must stop the render")


ERRORS = {
    "layout": lambda: CertificateLayoutError("IE-2026-0001"),
    "glyphs": lambda: UnrenderableText(["\ue000"]),
    "image": render_error,
    "refused": lambda: services.CertificateRefused(services.SNAPSHOT_PROBLEMS["hours"]),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ERRORS)
def test_a_certificate_that_cannot_be_made_says_why_in_the_readers_language(
        app, kind, language):
    error = ERRORS[kind]()
    with app.test_request_context(), force_locale(language):
        text = services.certificate_error_text(error)
    assert in_catalog(text, language), text
    if language != "en" and kind != "glyphs":
        assert not text.isascii(), text


@pytest.mark.parametrize("language", ["zh", "ru"])
def test_every_snapshot_problem_is_worded_for_the_coordinator(app, language):
    with app.test_request_context(), force_locale(language):
        for text in [*services.SNAPSHOT_PROBLEMS.values(), services.SNAPSHOT_PROBLEM]:
            assert in_catalog(str(text), language), str(text)


def test_a_program_without_hours_is_refused_in_words_not_a_value_error(app, db):
    program = factories.make_program(code="NH", hours=())  # no modules, so no volume
    factories.make_signatories(program)
    application = make_completed(factories.make_intake(program))
    db.session.flush()
    with pytest.raises(services.CertificateRefused) as refused:
        services.build_snapshot(application, "IE-2026-9999")
    with force_locale("zh"):
        text = refused.value.text()
    assert in_catalog(text, "zh"), text
    assert "hours must be" not in text


@pytest.mark.parametrize("language", ["zh", "ru"])
def test_the_batch_page_reads_the_coordinators_language(app, db, monkeypatch, language):
    coordinator = factories.make_user(role="coordinator", locale=language)
    application = make_completed(make_finished_intake())
    db.session.commit()

    number, gone, problem = jobs.issue_one(10**9, coordinator.id)
    assert (number, problem) == (None, True)
    assert in_catalog(gone, language), gone

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "issue_certificate", broken)
    number, unexpected, problem = jobs.issue_one(application.id, coordinator.id)
    assert (number, problem) == (None, True)
    who = jobs._name(application)
    separator = {"zh": "：", "ru": ": "}[language]
    assert unexpected.startswith(who + separator), unexpected
    assert in_catalog(unexpected.removeprefix(who + separator), language), unexpected
    assert "see the log" not in unexpected


def test_the_signatures_reason_is_in_the_certificates_three_languages(app, tmp_path,
                                                                        certificate_pdf):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    make_dev_key_pair(key, cert, "Test signer")
    reason, location = signature_words(
        {"ru": "Санкт-Петербург", "zh": "圣彼得堡", "en": "Saint Petersburg"})

    parts = reason.split(" / ")
    assert [in_catalog(part, language) for part, language in zip(parts, ("ru", "zh", "en"),
                                                                 strict=True)] == [True] * 3
    assert location == "Санкт-Петербург / 圣彼得堡 / Saint Petersburg"

    signed = sign_pdf(certificate_pdf, key, cert, reason=reason, location=location)
    field = PdfReader(io.BytesIO(signed)).get_fields()["SPbPU-Certificate"]
    value = field.value.get_object()
    assert value["/Reason"] == reason and value["/Location"] == location


def test_a_report_whose_pdf_fails_says_so_and_offers_the_page_again(client, db, login_as,
                                                                   monkeypatch):
    from course_portal.dashboard import pdf as report_pdf

    login_as("coordinator", locale="zh")

    def broken(report, language, labels):
        raise CertificateRenderError(
            "Rendering stopped: injected",
            report_pdf._l("The report's PDF could not be made; the log says why. The CSV and "
                          "XLSX files hold the same table."))

    monkeypatch.setattr(report_pdf, "render_report", broken)
    response = client.get("/dashboard/reports/status.pdf")

    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/reports"
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert "Rendering stopped" not in page
    with client.application.test_request_context(), force_locale("zh"):
        expected = str(report_pdf._l("The report's PDF could not be made; the log says why. "
                                     "The CSV and XLSX files hold the same table."))
    assert expected in page
