"""Issuing, revoking and re-issuing through the services: rules, numbers, frozen PDFs, emails."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader

from course_portal.certificates import pdfs, services
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.certificates.pdf import CertificateRenderError
from course_portal.certificates.services import CertificateRefused
from course_portal.core.clock import portal_today
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import (
    certificates,
    counter,
    make_completed,
    make_finished_intake,
    outbox,
    text_of,
)

C = CertificateStatus


@pytest.fixture
def intake(db):
    return make_finished_intake()


@pytest.fixture
def coordinator(db):
    user = factories.make_user(role="coordinator")
    user.display_name = "Иванова А. А."
    return user


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_eligible_teacher_gets_a_numbered_frozen_certificate(intake, coordinator):
    application = make_completed(intake, family_name_zh="欧阳", given_name_zh="娜娜",
                                 family_name_latin="Ouyang", given_name_latin="Nana")

    certificate = services.issue_certificate(application, coordinator)
    db.session.commit()

    year = portal_today().year
    assert certificate.registry_number == f"IE-{year}-0001"
    assert (certificate.year, certificate.sequence, certificate.status) == (year, 1, C.ISSUED)
    assert len(certificate.verification_code) >= 32  # 24 random bytes: 192 bits
    s = certificate.snapshot
    assert (s["name_zh"], s["name_latin"]) == ("欧阳娜娜", "OUYANG Nana")
    assert (s["program_title_ru"], s["program_title_zh"]) == ("Инвестиционная экосистема",
                                                              "投资生态系统")
    assert s["hours"] == 72 and s["result"] == "passed"
    assert s["partner_university_zh"] == "天水师范学院"
    # the coordinator who pressed the button is in the history, not printed as a signer
    assert s["issued_by"] == "" and "Иванова" not in pdf_text(certificate.pdf)
    assert [line["name_ru"] for line in s["signatories"]] == [
        "Иванов И. И.", "Петров П. П.", "Смирнова Е. А."]
    assert s["starts_on"] == intake.starts_on.isoformat()
    assert certificate.pdf_sha256 == hashlib.sha256(certificate.pdf).hexdigest()
    text = pdf_text(certificate.pdf)
    assert certificate.registry_number in text and "OUYANG Nana" in text
    # the printed verification URL (it may wrap after a hyphen)
    assert certificate.verification_code in text.replace("\n", "")
    assert counter(intake.program_id, year) == 1
    [mail] = outbox("certificate.issued")
    assert mail.to_address == application.teacher.email
    assert certificate.registry_number in mail.body_text
    assert "/verify/" + certificate.verification_code in mail.body_text


def test_numbers_follow_one_another_per_program_and_year(intake, coordinator):
    other = make_finished_intake(code="IS", title="Autumn 2026")
    numbers = [services.issue_certificate(make_completed(i), coordinator).registry_number
               for i in (intake, intake, other, intake)]
    year = portal_today().year
    assert numbers == [f"IE-{year}-0001", f"IE-{year}-0002", f"IS-{year}-0001",
                       f"IE-{year}-0003"]


def test_a_teacher_who_has_not_completed_is_refused_with_the_reasons(intake, coordinator):
    application = make_completed(intake, passed=False)

    with pytest.raises(CertificateRefused) as refused:
        services.issue_certificate(application, coordinator)

    assert "final assessment not taken yet" in text_of(refused.value)
    db.session.rollback()
    assert certificates() == []
    assert counter(intake.program_id, portal_today().year) is None


def test_an_application_that_is_not_enrolled_is_refused(intake, coordinator):
    application = factories.make_application(intake=intake, status="approved")
    with pytest.raises(CertificateRefused, match="Only enrolled teachers"):
        services.issue_certificate(application, coordinator)


def test_a_second_valid_certificate_is_refused(intake, coordinator):
    application = make_completed(intake)
    first = services.issue_certificate(application, coordinator)
    db.session.commit()

    with pytest.raises(CertificateRefused) as refused:
        services.issue_certificate(application, coordinator)

    assert first.registry_number in text_of(refused.value)
    db.session.rollback()
    assert len(certificates()) == 1
    assert counter(intake.program_id, portal_today().year) == 1


def test_only_a_coordinator_issues(intake):
    application = make_completed(intake)
    with pytest.raises(CertificateRefused, match="coordinator"):
        services.issue_certificate(application, application.teacher)


def test_a_character_no_font_prints_is_refused_and_named_before_a_number_is_taken(
        intake, coordinator):
    # U+2A6D6, at the end of CJK Extension B, is in no font of the certificate
    application = make_completed(intake, family_name_zh="\U0002a6d6", given_name_zh="娜")

    with pytest.raises(CertificateRefused) as refused:
        services.issue_certificate(application, coordinator)

    message = text_of(refused.value)
    assert "U+2A6D6" in message and "\U0002a6d6" in message
    db.session.rollback()
    assert certificates() == []
    assert counter(intake.program_id, portal_today().year) is None


def test_a_render_failure_keeps_the_number_and_the_pdf_is_made_later(
        intake, coordinator, monkeypatch):
    """The number and the row are committed before the render: a render that fails leaves an
    issued certificate whose PDF is made by the timed step, under the same number."""
    first, second = make_completed(intake), make_completed(intake)
    db.session.commit()

    def broken(snapshot, url, images=None):
        raise CertificateRenderError("Rendering stopped: injected")

    monkeypatch.setattr(pdfs, "render_certificate", broken)
    pending = services.issue_certificate(first, coordinator)
    db.session.commit()
    assert (pending.registry_number, pending.pdf_size, pending.pdf_sha256) == (
        f"{intake.program.code}-{portal_today().year}-0001", 0, "")
    assert pdfs.finish_pdfs() == "made 0, still waiting 1"

    monkeypatch.undo()
    assert services.issue_certificate(second, coordinator).sequence == 2
    db.session.commit()
    assert pdfs.finish_pdfs() == "made 1, still waiting 0"
    db.session.expire_all()
    made = db.session.get(Certificate, pending.id)
    assert made.pdf.startswith(b"%PDF") and made.pdf_size == len(made.pdf)
    assert made.pdf_sha256 == hashlib.sha256(made.pdf).hexdigest()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(made.pdf)).pages)
    assert pending.registry_number in text
    assert counter(intake.program_id, portal_today().year) == 2


def test_the_stored_pdf_never_changes_when_the_layout_does(intake, coordinator, monkeypatch):
    certificate = services.issue_certificate(make_completed(intake), coordinator)
    db.session.commit()
    stored, digest = certificate.pdf, certificate.pdf_sha256

    monkeypatch.setattr(pdfs, "render_certificate", lambda s, u: b"%PDF- a new layout")
    db.session.expire_all()

    again = certificates()[0]
    assert again.pdf == stored and again.pdf_sha256 == digest


def test_revocation_needs_a_reason_and_keeps_the_row(intake, coordinator):
    certificate = services.issue_certificate(make_completed(intake), coordinator)
    db.session.commit()

    with pytest.raises(CertificateRefused, match="reason"):
        services.revoke(certificate, coordinator, "   ")

    services.revoke(certificate, coordinator, "Forged attendance sheets")
    db.session.commit()

    [row] = certificates()
    assert row.status == C.REVOKED
    assert row.revoked_reason == "Forged attendance sheets"
    assert row.revoked_by_id == coordinator.id and row.revoked_at is not None
    [mail] = outbox("certificate.revoked")
    assert "Forged attendance sheets" in mail.body_text
    with pytest.raises(CertificateRefused, match="cannot become"):
        services.revoke(row, coordinator, "again")


def test_a_reissue_names_what_it_replaces_and_why(intake, coordinator):
    application = make_completed(intake, family_name_latin="Wnag", given_name_latin="Wei")
    old = services.issue_certificate(application, coordinator)
    db.session.commit()
    old_pdf = old.pdf
    application.teacher.profile.family_name_latin = "Wang"
    db.session.commit()

    new = services.reissue(old, coordinator, "Family name misspelt: Wnag → Wang")
    db.session.commit()

    db.session.expire_all()
    old, new = certificates()
    assert old.status == C.SUPERSEDED and old.superseded_at is not None
    assert old.replaced_by.id == new.id
    assert new.status == C.ISSUED and new.replaces_id == old.id
    assert new.reissue_reason == "Family name misspelt: Wnag → Wang"
    assert new.sequence == 2 and new.verification_code != old.verification_code
    assert old.snapshot["name_latin"] == "WNAG Wei" and old.pdf == old_pdf
    assert new.snapshot["name_latin"] == "WANG Wei"
    [mail] = outbox("certificate.reissued")
    assert old.registry_number in mail.body_text and new.registry_number in mail.body_text


def test_a_revoked_or_superseded_certificate_cannot_be_reissued(intake, coordinator):
    certificate = services.issue_certificate(make_completed(intake), coordinator)
    services.revoke(certificate, coordinator, "Issued by mistake")
    db.session.commit()
    with pytest.raises(CertificateRefused, match="Only a valid certificate"):
        services.reissue(certificate, coordinator, "typo")


def test_after_a_revocation_the_teacher_can_be_certified_again(intake, coordinator):
    application = make_completed(intake)
    first = services.issue_certificate(application, coordinator)
    services.revoke(first, coordinator, "Wrong intake")
    db.session.commit()

    second = services.issue_certificate(application, coordinator)
    db.session.commit()
    assert second.sequence == 2 and second.status == C.ISSUED


def test_the_emails_are_in_the_teachers_language(intake, coordinator):
    application = make_completed(intake, locale="zh")
    services.issue_certificate(application, coordinator)
    db.session.commit()
    [mail] = outbox("certificate.issued")
    assert mail.to_address == application.teacher.email
    assert any("\u4e00" <= ch <= "\u9fff" for ch in mail.subject + mail.body_text)


def test_verification_codes_never_start_with_a_spreadsheet_formula_character(app):
    codes = [services.new_verification_code() for _ in range(2000)]
    assert all(code[0].isalnum() and len(code) == 32 for code in codes)
    assert len(set(codes)) == len(codes)
