"""The rules beyond completion: not before the last day, signatories set, the profile complete;
the coordinator's Cyrillic name page, the re-issue of certificates that printed credited hours,
and the frozen volume."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from babel.dates import format_date as babel_format_date
from flask_babel import force_locale
from flask_babel import format_date as flask_format_date
from pypdf import PdfReader
from sqlalchemy import func, select

from course_portal.accounts.models import EducationLevel, Sex
from course_portal.certificates import jobs, requirements, services
from course_portal.certificates.models import (
    Certificate,
    CertificateStatus,
    IssueBatch,
    Signatory,
    SignatoryRole,
)
from course_portal.certificates.services import CertificateRefused
from course_portal.core.audit import AuditEvent
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


def make_intake_ending(ends_on, code: str = "IE", signatories: bool = True):
    """The 72-hour Investment Ecosystem programme and an intake whose last day is ends_on."""
    program = factories.make_program(
        code=code, hours=(8, 16, 24, 24), title_en="Investment Ecosystem",
        title_zh="投资生态系统", title_ru="Инвестиционная экосистема",
    )
    if signatories:
        factories.make_signatories(program)
    return factories.make_intake(
        program, title="Spring 2026", capacity=60,
        applications_open_on=ends_on - timedelta(days=200),
        applications_close_on=ends_on - timedelta(days=160),
        starts_on=ends_on - timedelta(days=120), ends_on=ends_on,
    )


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def flashes(client) -> list[tuple[str, str]]:
    """The flashed messages waiting in the client's session, as (category, text); taken out."""
    with client.session_transaction() as session:
        return [(category, str(message)) for category, message in session.pop("_flashes", [])]


def audit_rows(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def long_day(day) -> str:
    """A day as the refusal names it, in English."""
    with force_locale("en"):
        return flask_format_date(day, "long")


# --- not before the intake's last day ---------------------------------------------------------


def test_an_intake_ending_tomorrow_is_refused_naming_that_day(client, login_as):
    coordinator = login_as("coordinator")
    tomorrow = portal_today() + timedelta(days=1)
    intake = make_intake_ending(tomorrow)
    application = make_completed(intake)
    db.session.commit()
    assert requirements.first_issue_day(intake) == tomorrow

    with pytest.raises(CertificateRefused) as refused:
        services.issue_certificate(application, coordinator)
    message = text_of(refused.value)
    assert long_day(tomorrow) in message
    assert "Europe/Moscow" in message  # whose day it is
    db.session.rollback()
    assert certificates() == []
    assert counter(intake.program_id, portal_today().year) is None
    assert services.issuable(intake) == []

    intake_page = page(client, f"/certificates/manage/intakes/{intake.id}")
    assert long_day(tomorrow) in intake_page
    assert "can be issued from that day" in intake_page
    assert "Issue all" not in intake_page
    assert f"/certificates/manage/applications/{application.id}/issue" not in intake_page

    response = client.post(f"/certificates/manage/intakes/{intake.id}/issue-all")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/certificates/manage/intakes/{intake.id}"
    [(category, flashed)] = flashes(client)
    assert category == "error" and long_day(tomorrow) in flashed
    assert db.session.scalar(select(func.count()).select_from(IssueBatch)) == 0
    assert certificates() == []

    # the single issue button's view says the same
    client.post(f"/certificates/manage/applications/{application.id}/issue")
    [(category, flashed)] = flashes(client)
    assert category == "error" and long_day(tomorrow) in flashed
    assert certificates() == []
    assert counter(intake.program_id, portal_today().year) is None


def test_on_the_last_day_itself_the_certificate_is_issued(client, login_as):
    coordinator = login_as("coordinator")
    today = portal_today()
    intake = make_intake_ending(today)
    application = make_completed(intake)
    db.session.commit()

    assert services.intake_refusals(intake) == []
    certificate = services.issue_certificate(application, coordinator)
    db.session.commit()

    s = certificate.snapshot
    assert s["issued_on"] == today.isoformat()
    assert (s["starts_on"], s["ends_on"]) == (intake.starts_on.isoformat(),
                                             intake.ends_on.isoformat())
    assert s["layout_version"] == 2
    text = " ".join(pdf_text(certificate.pdf).split())
    assert babel_format_date(today, "d MMMM y", locale="en") in text
    assert babel_format_date(intake.starts_on, "d MMMM y", locale="en") in text
    assert counter(intake.program_id, today.year) == 1


# --- signatories ------------------------------------------------------------------------------


def test_without_a_director_for_the_institute_issuing_is_refused_naming_it(client, login_as):
    coordinator = login_as("coordinator")
    intake = make_finished_intake()
    institute = intake.program.institute
    db.session.execute(db.delete(Signatory).where(
        Signatory.slot == Signatory.slot_for(SignatoryRole.DIRECTOR, institute.id)))
    # another institute's director does not sign for this one
    factories.make_signatories(factories.make_program(code="OT"))
    application = make_completed(intake)
    db.session.commit()

    with pytest.raises(CertificateRefused) as refused:
        services.issue_certificate(application, coordinator)
    message = text_of(refused.value)
    assert f"No director of {institute.name_en} is set" in message
    assert len(refused.value.messages) == 1  # the rector and the secretary are set
    db.session.rollback()
    assert certificates() == []

    intake_page = page(client, f"/certificates/manage/intakes/{intake.id}")
    assert intake_page.count(f"No director of {institute.name_en}") == 1
    assert "Issue all" not in intake_page
    assert f"/certificates/manage/applications/{application.id}/issue" not in intake_page


# --- the profile ------------------------------------------------------------------------------


MISSING_THREE = "Name in Russian (Cyrillic), Date of birth, Sex"


def test_a_teacher_lacking_profile_fields_is_refused_listing_exactly_those(client, login_as):
    coordinator = login_as("coordinator")
    intake = make_finished_intake()
    lacking = make_completed(intake, name_ru="", born_on=None, sex=None,
                             family_name_latin="Ouyang", given_name_latin="Nana")
    db.session.commit()

    with pytest.raises(CertificateRefused) as refused:
        services.issue_certificate(lacking, coordinator)
    assert text_of(refused.value) == (
        "The teacher's profile lacks what the certificate and the federal register need: "
        f"{MISSING_THREE}.")
    db.session.rollback()
    assert certificates() == []
    assert counter(intake.program_id, portal_today().year) is None

    intake_page = page(client, f"/certificates/manage/intakes/{intake.id}")
    assert f"Profile lacks: {MISSING_THREE}" in intake_page
    assert "Citizenship" not in intake_page and "Level of education" not in intake_page
    assert "Email 1 teacher what to add to the profile" in intake_page


def test_asking_for_profile_data_emails_each_lacking_eligible_teacher_in_their_language(
        client, login_as):
    coordinator = login_as("coordinator")
    intake = make_finished_intake()
    english = make_completed(intake, locale="en", name_ru="", born_on=None, sex=None)
    chinese = make_completed(intake, locale="zh", born_on=None)
    russian = make_completed(intake, locale="ru", born_on=None, citizenship="")
    complete = make_completed(intake, locale="en")
    not_eligible = make_completed(intake, passed=False, locale="en", born_on=None)
    db.session.commit()

    response = client.post(f"/certificates/manage/intakes/{intake.id}/ask-profiles")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/certificates/manage/intakes/{intake.id}"
    assert flashes(client) == [("success", "3 teachers were emailed what to add to their profiles.")]

    mails = {m.to_address: m for m in outbox("certificate.profile_needed")}
    assert set(mails) == {english.teacher.email, chinese.teacher.email, russian.teacher.email}
    assert complete.teacher.email not in mails and not_eligible.teacher.email not in mails
    for mail in mails.values():
        assert "http://portal.test/profile/edit" in mail.body_text

    en = mails[english.teacher.email]
    assert "please complete your profile" in en.subject and "Investment Ecosystem" in en.subject
    assert "Hello" in en.body_text
    for label in ("- Name in Russian (Cyrillic)", "- Date of birth", "- Sex"):
        assert label in en.body_text
    assert "Citizenship" not in en.body_text and "Level of education" not in en.body_text

    # subject, greeting, programme title and the fields' labels in the teacher's language
    zh = mails[chinese.teacher.email]
    assert "个人资料" in zh.subject and "投资生态系统" in zh.subject
    assert "please" not in zh.subject
    assert "您好" in zh.body_text and "个人资料页面" in zh.body_text
    assert "- 出生日期" in zh.body_text
    assert "Date of birth" not in zh.body_text and "Hello" not in zh.body_text
    assert zh.body_text.count("\n- ") == 1
    ru = mails[russian.teacher.email]
    assert "профиль" in ru.subject and "Инвестиционная экосистема" in ru.subject
    assert "please" not in ru.subject
    assert "Здравствуйте" in ru.body_text and "странице профиля" in ru.body_text
    assert "- Дата рождения" in ru.body_text and "- Гражданство" in ru.body_text
    assert "Date of birth" not in ru.body_text and "Citizenship" not in ru.body_text
    assert ru.body_text.count("\n- ") == 2

    [row] = audit_rows("certificates.profile_data_requested")
    assert row.actor_id == coordinator.id
    assert row.details["intake_id"] == intake.id and row.details["teachers"] == 3

    # the teacher fills in the profile: now the certificate is issued, with the register's data
    profile = english.teacher.profile
    profile.name_ru, profile.born_on, profile.sex = "Ван Сяомин", date(1987, 6, 1), Sex.FEMALE
    profile.education_level = EducationLevel.SECONDARY_VOCATIONAL
    db.session.commit()
    certificate = services.issue_certificate(english, coordinator)
    db.session.commit()
    data = certificate.register_data
    assert data["born_on"] == profile.born_on.isoformat()
    assert (data["sex"], data["citizenship"], data["education_level"]) == (
        "female", "CN", "secondary_vocational")
    assert data["funding"] == "home_university"
    assert (data["family_name_ru"], data["given_name_ru"], data["patronymic_ru"]) == (
        "Ван", "Сяомин", "")


def test_nobody_to_ask_sends_nothing(client, login_as):
    login_as("coordinator")
    intake = make_finished_intake()
    make_completed(intake)
    db.session.commit()
    assert "what to add to the profile" not in page(
        client, f"/certificates/manage/intakes/{intake.id}")
    client.post(f"/certificates/manage/intakes/{intake.id}/ask-profiles")
    assert outbox("certificate.profile_needed") == []
    assert flashes(client) == [("info", "0 teachers were emailed what to add to their profiles.")]


# --- the coordinator's Cyrillic name page -----------------------------------------------------


@pytest.fixture
def nameless(db):
    intake = make_finished_intake()
    application = make_completed(intake, name_ru="", family_name_zh="欧阳", given_name_zh="娜娜",
                                 family_name_latin="Ouyang", given_name_latin="Nana")
    db.session.commit()
    return application


def test_the_name_page_suggests_palladius_and_saves_with_an_audit(client, login_as, nameless):
    coordinator = login_as("coordinator")
    url = f"/certificates/manage/applications/{nameless.id}/name-ru"

    form = page(client, url)
    assert 'value="Оуян Нана"' in form
    assert "欧阳娜娜" in form and "OUYANG Nana" in form
    db.session.refresh(nameless.teacher.profile)
    assert nameless.teacher.profile.name_ru == ""  # shown, not saved

    response = client.post(url, data={"name_ru": "  Оуян Нана "})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/certificates/manage/intakes/{nameless.intake_id}"
    db.session.refresh(nameless.teacher.profile)
    assert nameless.teacher.profile.name_ru == "Оуян Нана"
    [row] = audit_rows("profile.name_ru_set")
    assert row.actor_id == coordinator.id and row.teacher_id == nameless.teacher_id
    assert (row.details["before"], row.details["after"]) == ("", "Оуян Нана")

    # a saved name is shown as it is, not the suggestion
    client.post(url, data={"name_ru": "Оуян Нана-Мария"})
    assert 'value="Оуян Нана-Мария"' in page(client, url)
    assert len(audit_rows("profile.name_ru_set")) == 2


@pytest.mark.parametrize(("typed", "shown", "message"), [
    ("Ouyang Nana", 'value="Ouyang Nana"', "Write this in Cyrillic letters"),
    ("Оуян<script>alert(1)</script>", 'value="Оуян&lt;script&gt;alert(1)&lt;/script&gt;"',
     "A name cannot contain the characters"),
])
def test_the_name_page_refuses_latin_letters_and_markup(client, login_as, nameless, typed, shown,
                                                        message):
    login_as("coordinator")
    url = f"/certificates/manage/applications/{nameless.id}/name-ru"
    response = client.post(url, data={"name_ru": typed})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body
    assert shown in body
    assert "<script>alert(1)</script>" not in body
    db.session.refresh(nameless.teacher.profile)
    assert nameless.teacher.profile.name_ru == ""
    assert audit_rows("profile.name_ru_set") == []


def test_a_teacher_cannot_open_the_name_page(client, login_as, nameless):
    login_as("teacher")
    url = f"/certificates/manage/applications/{nameless.id}/name-ru"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"name_ru": "Оуян Нана"}).status_code == 403
    db.session.refresh(nameless.teacher.profile)
    assert nameless.teacher.profile.name_ru == ""


# --- certificates that printed credited hours ---------------------------------------------------

LAYOUT_2_ONLY = ("layout_version", "study_form", "delivery", "signatories", "seal_sha256",
                 "city_ru", "city_en", "city_zh")


def make_layout_1(application, coordinator) -> Certificate:
    """A valid certificate as the portal issued it before layout 2: the credited hours (66),
    "Issued by", no signatories, no layout_version, no register data."""
    certificate = services.issue_certificate(application, coordinator)
    old = {k: v for k, v in certificate.snapshot.items() if k not in LAYOUT_2_ONLY}
    old.update(hours=66, issued_by="Иванова А. А.")
    certificate.snapshot = old
    certificate.register_data = {}
    db.session.commit()
    return certificate


def test_certificates_that_printed_credited_hours_are_reissued_from_their_page(
        client, login_as):
    coordinator = login_as("coordinator")
    intake = make_finished_intake()
    application = make_completed(intake, family_name_latin="Li", given_name_latin="Wei")
    old = make_layout_1(application, coordinator)
    current = services.issue_certificate(make_completed(intake), coordinator)  # layout 2
    db.session.commit()
    outbox_before = len(outbox("certificate.reissued"))

    registry_page = page(client, "/certificates/manage/registry")
    assert "1 valid certificate printed the teacher's credited hours" in registry_page
    assert 'href="/certificates/manage/credited-hours"' in registry_page

    listing = page(client, "/certificates/manage/credited-hours")
    assert old.registry_number in listing
    assert current.registry_number not in listing
    assert f'name="certificate" value="{old.id}"' in listing
    assert "<td>66</td>" in listing and "<td>72</td>" in listing

    response = client.post("/certificates/manage/credited-hours",
                           data={"certificate": str(old.id)})
    assert response.status_code == 302
    db.session.expire_all()

    old = db.session.get(Certificate, old.id)
    assert old.status == C.SUPERSEDED and old.superseded_at is not None
    new = old.replaced_by
    assert new is not None and new.status == C.ISSUED
    assert new.replaces_id == old.id and new.application_id == application.id
    assert new.reissue_reason == jobs.CREDITED_HOURS_REASON
    assert new.snapshot["layout_version"] == 2 and new.snapshot["hours"] == 72
    assert new.registry_number != old.registry_number
    assert old.snapshot["hours"] == 66  # the old one keeps saying what its PDF printed
    assert db.session.get(Certificate, current.id).status == C.ISSUED
    mails = outbox("certificate.reissued")
    assert len(mails) == outbox_before + 1
    assert mails[-1].to_address == application.teacher.email
    assert new.registry_number in mails[-1].body_text
    assert len(audit_rows("certificates.reissue_started")) == 1
    [finished] = audit_rows("certificates.reissue_finished")
    assert finished.details == {"issued": [new.registry_number], "problems": []}

    listing = page(client, "/certificates/manage/credited-hours")
    assert "Every valid certificate prints the programme's volume." in listing
    assert 'name="certificate"' not in listing
    assert "printed the teacher's credited hours" not in page(
        client, "/certificates/manage/registry")


def test_a_refused_reissue_is_listed_as_a_problem_and_the_certificate_stays_valid(
        client, login_as):
    coordinator = login_as("coordinator")
    intake = make_finished_intake()
    application = make_completed(intake)
    old = make_layout_1(application, coordinator)
    application.teacher.profile.sex = None
    db.session.commit()

    client.post("/certificates/manage/credited-hours", data={"certificate": str(old.id)})
    db.session.expire_all()

    assert db.session.get(Certificate, old.id).status == C.ISSUED
    assert [c.id for c in certificates()] == [old.id]
    listing = page(client, "/certificates/manage/credited-hours")
    assert "could not re-issue these" in listing
    assert f"{old.registry_number}: The teacher&#39;s profile lacks" in listing
    assert "Sex." in listing
    assert f'name="certificate" value="{old.id}"' in listing  # still to do
    assert outbox("certificate.reissued") == []


def test_an_id_not_on_the_list_is_ignored(client, login_as):
    coordinator = login_as("coordinator")
    intake = make_finished_intake()
    listed = make_layout_1(make_completed(intake), coordinator)
    current = services.issue_certificate(make_completed(intake), coordinator)  # layout 2
    db.session.commit()

    for chosen in ([str(current.id)], ["999999"], ["x1"], ["1" * 40]):
        response = client.post("/certificates/manage/credited-hours",
                               data={"certificate": chosen})
        assert response.status_code == 302
        assert flashes(client) == [("warning", "Choose the certificates to re-issue.")]
    db.session.expire_all()
    assert [(c.id, c.status) for c in certificates()] == [(listed.id, C.ISSUED),
                                                          (current.id, C.ISSUED)]
    assert audit_rows("certificates.reissue_started") == []

    # mixed with one on the list, only that one is re-issued
    client.post("/certificates/manage/credited-hours",
                data={"certificate": [str(current.id), str(listed.id)]})
    db.session.expire_all()
    assert db.session.get(Certificate, current.id).status == C.ISSUED
    assert db.session.get(Certificate, current.id).replaced_by is None
    assert db.session.get(Certificate, listed.id).status == C.SUPERSEDED
    assert len(certificates()) == 3


# --- the volume is frozen -------------------------------------------------------------------------


def test_changing_the_modules_after_issue_leaves_the_issued_certificate_alone(client, login_as):
    from course_portal.catalog import services as catalog_services

    coordinator = login_as("coordinator")
    intake = make_finished_intake()
    certificate = services.issue_certificate(make_completed(intake), coordinator)
    db.session.commit()
    pdf, snapshot = certificate.pdf, dict(certificate.snapshot)
    assert snapshot["hours"] == 72

    program = intake.program
    rows = [{"id": m.id, "position": m.position, "title_en": m.title_en, "title_zh": m.title_zh,
             "title_ru": m.title_ru, "hours": m.hours + 4} for m in program.modules]
    rows.append({"id": None, "position": len(rows) + 1, "title_en": "Added later",
                 "title_zh": "", "title_ru": "", "hours": 8})
    catalog_services.save_modules(program, rows, actor=coordinator)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(program), program.id).total_hours == 72 + 4 * 4 + 8

    again = db.session.get(Certificate, certificate.id)
    assert again.snapshot == snapshot and again.snapshot["hours"] == 72
    assert again.pdf == pdf
    assert jobs.printed_credited_hours() == []
    assert "96 academic hours printed on every certificate" in page(
        client, f"/certificates/manage/intakes/{intake.id}")
    record = page(client, f"/certificates/manage/certificates/{certificate.id}")
    assert "<dt>Academic hours (the programme's volume)</dt><dd>72</dd>" in record
