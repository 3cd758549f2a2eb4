"""What a liaison sees: their university's teachers, applications, progress and certificates."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from course_portal.certificates import services as certificate_services
from course_portal.core.audit import AuditEvent
from course_portal.partners.actions import PARTNER_ACTIONS
from tests import factories
from tests.partners.helpers import make_staff, sign_in


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_home_lists_only_the_universitys_teachers_with_progress_and_certificates(client, world):
    sign_in(client, world.liaison)

    page = _page(client, "/partner/")

    assert "Teachers of Datong University" in page
    assert "OUYANG Nana" in page and "LI Wei" in page
    assert "WANG Fang" not in page and "wang.fang" not in page
    # progress of the completed teacher: everything attended and passed, so eligible
    assert "Attendance 100%" in page
    assert "4 of 4 modules passed" in page
    assert "Eligible for the certificate" in page
    assert world.certificate.registry_number in page
    assert f"/verify/{world.certificate.verification_code}" in page
    assert world.other_certificate.registry_number not in page
    assert "Submitted" in page and "Autumn 2026" in page
    assert "2 teachers" in page


def test_a_teacher_not_yet_eligible_shows_why(client, world, db):
    from course_portal.progress.models import ModuleResult, Outcome

    lagging = factories.make_application(
        teacher=factories.make_teacher(partner=world.datong, family_name_latin="Zhao",
                                       given_name_latin="Lei"),
        intake=world.intake, status="enrolled")
    first = world.intake.program.modules[0]
    db.session.add(ModuleResult(application_id=lagging.id, module_id=first.id,
                                attended_hours=first.hours, outcome=Outcome.FAILED))
    db.session.commit()
    sign_in(client, world.liaison)

    page = _page(client, "/partner/?q=zhao")

    assert "Not eligible yet" in page
    assert "module 1 not passed" in page
    assert "final assessment not taken yet" in page
    assert "0 of 4 modules passed" in page


def test_filters_by_intake_status_and_name(client, world):
    sign_in(client, world.liaison)

    by_intake = _page(client, f"/partner/?intake={world.upcoming.id}")
    by_status = _page(client, "/partner/?status=enrolled")
    by_hanzi = _page(client, "/partner/?q=欧阳")
    by_pinyin = _page(client, "/partner/?q=ouyangnana")
    by_email = _page(client, "/partner/?q=li.wei@")

    assert "LI Wei" in by_intake and "OUYANG Nana" not in by_intake
    assert "OUYANG Nana" in by_status and "LI Wei" not in by_status
    for page in (by_hanzi, by_pinyin):
        assert "OUYANG Nana" in page and "LI Wei" not in page
    assert "LI Wei" in by_email and "OUYANG Nana" not in by_email


def test_an_intake_of_no_teacher_of_the_university_is_not_offered(client, world):
    elsewhere = factories.make_intake(factories.make_program(code="XX"), title="Elsewhere 2030")
    factories.make_application(teacher=factories.make_teacher(partner=world.tianshui),
                               intake=elsewhere, status="submitted")
    sign_in(client, world.liaison)

    page = _page(client, f"/partner/?intake={elsewhere.id}")

    assert "Elsewhere 2030" not in page
    # the unknown choice falls back to every intake
    assert "OUYANG Nana" in page and "LI Wei" in page


def test_teachers_without_an_application_are_listed_as_such(client, world):
    factories.make_teacher(partner=world.datong, family_name_latin="Sun", given_name_latin="Li")
    factories.make_application(
        teacher=factories.make_teacher(partner=world.datong, family_name_latin="Draft",
                                       given_name_latin="Only"),
        intake=world.upcoming, status="draft")
    sign_in(client, world.liaison)

    page = _page(client, "/partner/?status=none")

    assert "SUN Li" in page and "DRAFT Only" in page
    assert "No application yet." in page
    assert "OUYANG Nana" not in page


def test_the_list_is_paginated(client, world, db):
    for n in range(30):
        factories.make_teacher(partner=world.datong, family_name_latin=f"Zz{n:02d}",
                               given_name_latin="Teacher")
    db.session.commit()
    sign_in(client, world.liaison)

    first = _page(client, "/partner/")
    second = _page(client, "/partner/?page=2")

    assert "32 teachers · showing 1–25" in first
    assert 'rel="next"' in first
    assert "showing 26–32" in second
    assert "ZZ29 Teacher" in second and "ZZ29 Teacher" not in first


def test_teacher_page_shows_profile_basics_history_modules_and_no_personal_documents(client, world):
    sign_in(client, world.liaison)
    teacher = world.completed.teacher

    page = _page(client, f"/partner/teachers/{teacher.id}")

    assert "欧阳娜娜" in page and "OUYANG Nana" in page
    assert "School of Economics" in page and "Lecturer" in page
    assert "Module 1" in page and "Passed" in page
    assert "Submitted → Approved" in page and "Approved → Enrolled" in page  # the history
    assert world.certificate.registry_number in page
    assert f"/partner/certificates/{world.certificate.id}.pdf" in page
    # least privilege, and the page says so
    assert "+86 130 0000 0105" not in page and "ouyang_wechat" not in page
    assert "/documents/" not in page
    assert "passport pages, diplomas" in page


def test_teacher_of_another_university_is_not_found(client, world):
    sign_in(client, world.liaison)

    assert client.get(f"/partner/teachers/{world.other.teacher_id}").status_code == 404
    assert client.get(f"/partner/teachers/{world.liaison.id}").status_code == 404
    assert client.get("/partner/teachers/999999").status_code == 404


def test_liaison_downloads_the_stored_pdf_of_their_teachers_valid_certificate(client, world, db):
    sign_in(client, world.liaison)

    response = client.get(f"/partner/certificates/{world.certificate.id}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == world.certificate.pdf
    assert "attachment" in response.headers["Content-Disposition"]
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "partner.certificate_downloaded")).all()
    assert [e.actor_id for e in events] == [world.liaison.id]


def test_no_pdf_of_another_universitys_or_a_revoked_certificate(client, world, db):
    certificate_services.revoke(world.certificate, world.coordinator, "Issued by mistake")
    db.session.commit()
    sign_in(client, world.liaison)

    assert client.get(f"/partner/certificates/{world.other_certificate.id}.pdf").status_code == 404
    assert client.get(f"/partner/certificates/{world.certificate.id}.pdf").status_code == 404
    page = _page(client, f"/partner/teachers/{world.completed.teacher_id}")
    assert "revoked" in page
    assert f"/partner/certificates/{world.certificate.id}.pdf" not in page


def test_csv_export_is_the_filtered_list_with_formulas_neutralised(client, world, db):
    teacher = factories.make_teacher(partner=world.datong, family_name_latin="Hack",
                                     given_name_latin="Er", department="=HYPERLINK(1)")
    factories.make_application(teacher=teacher, intake=world.upcoming, status="waitlisted")
    db.session.commit()
    sign_in(client, world.liaison)

    response = client.get("/partner/teachers.csv")
    filtered = client.get("/partner/teachers.csv?status=enrolled").get_data(as_text=True)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    emails = {row[3] for row in rows[1:]}
    assert emails == {"ouyang.nana@example.edu.cn", "li.wei@example.edu.cn", teacher.email}
    hack = next(row for row in rows if row[3] == teacher.email)
    assert hack[4] == "'=HYPERLINK(1)"
    nana = next(row for row in rows if row[3] == "ouyang.nana@example.edu.cn")
    assert nana[9] == "100" and nana[11] == "yes"
    assert world.certificate.registry_number in nana
    assert "li.wei@example.edu.cn" not in filtered
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == world.liaison.id)).all()
    assert actions.count("partner.report_exported") == 2


def test_xlsx_export_opens_and_holds_only_the_universitys_teachers(client, world):
    sign_in(client, world.liaison)

    response = client.get("/partner/teachers.xlsx")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    emails = {row[3] for row in values[1:]}
    assert emails == {"ouyang.nana@example.edu.cn", "li.wei@example.edu.cn"}


def test_every_partner_action_recorded_has_a_label(client, world, db):
    sign_in(client, world.liaison)
    client.get("/partner/teachers.csv")
    client.get(f"/partner/certificates/{world.certificate.id}.pdf")

    recorded = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("partner.%"))))

    assert recorded == {"partner.report_exported", "partner.certificate_downloaded"}
    assert recorded <= set(PARTNER_ACTIONS)


def test_other_staff_and_teachers_do_not_get_the_liaison_pages(client, world):
    for user in (make_staff("coordinator"), make_staff("admin"), world.completed.teacher):
        sign_in(client, user)
        assert client.get("/partner/").status_code == 403
        assert client.get(f"/partner/teachers/{world.completed.teacher_id}").status_code == 403
        assert client.get(f"/partner/certificates/{world.certificate.id}.pdf").status_code == 403


def test_liaison_is_refused_the_coordinators_pages(client, world):
    sign_in(client, world.liaison)

    for url in ("/dashboard", "/review", f"/review/applications/{world.submitted.id}",
                "/certificates/manage", "/manage/programs", "/partner/manage",
                f"/dashboard/reports/partners/{world.datong.id}"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/applications/{world.submitted.id}").status_code == 404
    assert client.get(f"/certificates/{world.certificate.id}/pdf").status_code == 404


def test_liaison_nav_leads_to_their_teachers(client, world):
    sign_in(client, world.liaison)

    page = _page(client, "/partner/")

    assert 'href="/partner/">Our teachers</a>' in page
    assert 'href="/review"' not in page and 'href="/applications"' not in page


def test_liaison_signs_in_with_a_code_and_lands_on_their_teachers(client, world):
    import pyotp

    response = client.post("/login", data={"email": world.liaison.email,
                                           "password": factories.PASSWORD})
    assert response.headers["Location"].endswith("/login/code")

    code = pyotp.TOTP(world.liaison.totp_secret).now()
    response = client.post("/login/code", data={"code": code})

    assert response.headers["Location"] == "/partner/"
    assert "Teachers of Datong University" in _page(client, "/partner/")
