"""flask demo-data: what an operator sees after make run, and that a second run changes nothing."""

from datetime import timedelta

from flask_babel import refresh
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.catalog.models import Institute, Intake, Module, PartnerUniversity, Program
from course_portal.certificates.models import Certificate, CertificateStatus, RegistryCounter
from course_portal.core.clock import portal_today
from course_portal.core.outbox import OutboxMessage
from course_portal.enrollment.models import Application, ApplicationEvent, Document
from course_portal.ops import demo, demo_progress
from course_portal.progress.models import (
    FinalAssessment,
    ModuleResult,
    ModuleSchedule,
    ResultChange,
)
from tests import factories

TABLES = (PartnerUniversity, Institute, Program, Module, Intake, User, TeacherProfile,
          Application, ApplicationEvent, Document, OutboxMessage, ModuleSchedule, ModuleResult,
          FinalAssessment, ResultChange, Certificate, RegistryCounter)


def _row_counts(db) -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in TABLES}


def _intake_dates(db) -> dict[tuple[str, str], tuple]:
    return {
        (intake.program.code, intake.title): (intake.applications_open_on,
                                              intake.applications_close_on, intake.starts_on,
                                              intake.ends_on, intake.capacity)
        for intake in db.session.scalars(select(Intake))
    }


def _load(app, *args):
    result = app.test_cli_runner().invoke(args=["demo-data", *args])
    assert result.exit_code == 0, result.output
    return result


def test_demo_data_twice_creates_nothing_new_and_keeps_intake_dates(app, db):
    first = _load(app)
    counts, dates = _row_counts(db), _intake_dates(db)
    db.session.expire_all()

    second = _load(app)

    assert counts == {"partner_universities": 5, "institutes": 2, "programs": 2, "modules": 15,
                      # the open IE and IS intakes and the finished IE one
                      "intakes": 3, "users": 9, "teacher_profiles": 6, "applications": 11,
                      # open intake: draft, submitted, decided: 1 + 2 × 2 + 3 × 3; finished:
                      # draft, submitted, approved, enrolled, completed or not, × 5
                      "application_events": 14 + 25, "documents": 18 + 15,
                      # open intake: submitted × 5, then approved, waitlisted, rejected;
                      # finished: approved, enrolled, (not) completed × 5, certificates
                      # issued × 4, revoked, re-issued
                      "outbox_messages": 8 + 15 + 6,
                      # the finished IE intake's 7 modules and the open IS intake's 8
                      "module_schedules": 15, "module_results": 5 * 7, "final_assessments": 5,
                      # hours and result per module and teacher, the final, one correction
                      "result_changes": 5 * 7 * 2 + 5 + 1,
                      "certificates": 5, "certificate_counters": 1}
    assert _row_counts(db) == counts
    assert _intake_dates(db) == dates
    assert "created: 5 partner universities, 2 institutes, 2 programs" in first.output
    assert "6 applications, 33 documents" in first.output
    assert "1 finished intakes, 5 finished-intake applications, 5 certificates" in first.output
    assert "4 completed, 1 not completed" in first.output
    year = portal_today().year
    assert "certificates issued: " + ", ".join(
        f"IE-{year}-{n:04d}" for n in range(1, 6)) in first.output
    assert "created: nothing" in second.output
    assert "updated to the demo values: nothing" in second.output
    assert "6 applications" in second.output
    assert "1 finished intakes, 5 certificates, 1 schedules" in second.output
    assert "certificates issued" not in second.output


def test_later_run_in_another_season_leaves_the_intakes_alone(app, db, monkeypatch):
    _load(app)
    dates = _intake_dates(db)
    later = portal_today() + timedelta(days=120)
    monkeypatch.setattr(demo, "portal_today", lambda: later)

    summary = demo.load_demo_data()
    db.session.commit()

    assert not summary.changed_anything
    assert _intake_dates(db) == dates


def test_edited_program_is_put_back_but_accounts_are_not(app, db):
    _load(app)
    program = db.session.scalar(select(Program).where(Program.code == "IE"))
    program.title_en = "Typo"
    admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    admin.password_hash = "changed"
    db.session.commit()

    summary = demo.load_demo_data()
    db.session.commit()

    assert summary.updated == {"programs": 1}
    assert program.title_en == "Investment Ecosystem"
    assert admin.password_hash == "changed"
    output = _load(app).output
    assert "admin@example.com        admin            (changed since demo-data created it)" in output


def test_programs_have_72_and_108_hours_and_open_intakes(app, db):
    _load(app)
    today = portal_today()
    programs = {p.code: p for p in db.session.scalars(select(Program))}

    assert programs["IE"].total_hours == 72
    assert len(programs["IE"].modules) == 7
    assert programs["IS"].total_hours == 108
    assert len(programs["IS"].modules) == 8
    for code, months, capacity in (("IE", 3, 30), ("IS", 4, 25)):
        program = programs[code]
        assert program.is_published
        assert program.duration_months == months
        assert all(m.title_en and m.title_zh and m.title_ru for m in program.modules)
        for language in ("en", "zh", "ru"):
            assert len(getattr(program, f"description_{language}").split("\n\n")) == 2
        (intake,) = [i for i in program.intakes if i.ends_on >= today]
        assert intake.is_accepting_on(today)
        assert intake.applications_open_on == today - timedelta(days=7)
        assert intake.applications_close_on == today + timedelta(days=30)
        assert intake.starts_on == today + timedelta(days=45)
        assert intake.ends_on == demo.add_months(intake.starts_on, months) - timedelta(days=1)
        assert intake.capacity == capacity
        assert intake.title.endswith(str(intake.starts_on.year))


def test_catalog_shows_both_programs_in_english_and_chinese(app, db, client):
    _load(app)

    english = client.get("/").get_data(as_text=True)
    # the app fixture's context is shared by the client's requests: forget the cached locale
    refresh()
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)

    assert "Investment Ecosystem" in english
    assert "Intellectual Systems" in english
    assert "Institute of Computer Science and Technology" in english
    assert "<dd>72</dd>" in english and "<dd>108</dd>" in english
    assert english.count("Applications open until") == 2
    assert "投资生态系统" not in english
    assert "投资生态系统" in chinese
    assert "智能系统" in chinese
    assert "计算机科学与技术学院" in chinese


def test_demo_teachers_are_found_by_their_chinese_names(app, db):
    _load(app)

    profile = db.session.scalar(
        select(TeacherProfile).where(TeacherProfile.family_name_zh == "欧阳",
                                     TeacherProfile.given_name_zh == "娜娜")
    )
    wang = db.session.scalar(select(User).where(User.email == "wang.fang@example.com"))

    assert profile.user.email == "ouyang.nana@example.com"
    assert profile.name_latin == "OUYANG Nana"
    assert profile.partner_university.name_zh == "中国石油大学（华东）"
    assert wang.name == "王芳"
    assert wang.profile.name_ru == "Ван Фан"
    assert wang.profile.partner_university.name_en == "Tianshui Normal University"
    teachers = list(db.session.scalars(select(User).where(User.role == Role.TEACHER)))
    assert len(teachers) == 6
    for teacher in teachers:
        assert teacher.is_active  # confirmed and enabled: can sign in at once
        assert teacher.profile.phone.startswith("+86")
        assert teacher.profile.wechat_id and teacher.profile.department
        assert teacher.profile.partner_university is not None
        assert check_password_hash(teacher.password_hash, demo.DEMO_PASSWORD)
    assert sum(t.locale == "zh" for t in teachers) >= 3


def test_output_lists_every_demo_login_with_the_password(app, db):
    output = _load(app).output

    assert len(demo.DEMO_PASSWORD) >= app.config["PASSWORD_MIN_LENGTH"]
    for email, role in demo.demo_logins():
        assert email in output
        assert f"{role}" in output
    assert ("admin@example.com", "admin") in demo.demo_logins()
    assert ("coordinator@example.com", "coordinator") in demo.demo_logins()
    assert output.count(demo.DEMO_PASSWORD) == 9
    staff = db.session.scalars(select(User).where(User.role != Role.TEACHER)).all()
    assert all(user.display_name for user in staff)


def test_if_empty_loads_into_an_empty_database(app, db):
    output = _load(app, "--if-empty").output

    assert "created: 5 partner universities" in output
    assert _row_counts(db)["programs"] == 2


def test_if_empty_does_nothing_when_someone_has_an_account(app, db):
    factories.make_user(role="coordinator", email="real.person@spbstu.ru")
    db.session.commit()

    output = _load(app, "--if-empty").output

    assert "demo data not loaded" in output
    assert "Demo logins" not in output
    assert _row_counts(db)["programs"] == 0
    assert _row_counts(db)["users"] == 1


def test_if_empty_on_a_demo_database_says_so_and_prints_the_logins(app, db):
    _load(app)
    counts = _row_counts(db)

    output = _load(app, "--if-empty").output

    assert "demo data already present" in output
    assert "coordinator@example.com" in output
    assert demo.DEMO_PASSWORD in output
    assert _row_counts(db) == counts


def test_refuses_to_load_in_production(make_app, tmp_path):
    production = make_app(ENV="production")
    result = production.test_cli_runner().invoke(args=["demo-data"])

    assert result.exit_code != 0
    assert "published password" in result.output


def test_on_a_database_without_schema_it_says_to_upgrade(make_app, tmp_path):
    make_app()  # the first app built cleans the shared test database afterwards
    empty = make_app(DATABASE_URL="sqlite:///" + str(tmp_path / "empty.sqlite3"))

    result = empty.test_cli_runner().invoke(args=["demo-data", "--if-empty"])

    assert result.exit_code == 1
    assert "run: flask db upgrade" in result.output


def test_season_titles():
    from datetime import date

    assert demo.season_title(date(2027, 3, 1)) == "Spring 2027"
    assert demo.season_title(date(2026, 12, 20)) == "Winter 2026"
    assert demo.season_title(date(2026, 10, 1)) == "Autumn 2026"
    assert demo.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


# --- demo applications ----------------------------------------------------------------------


def _ie_intake(db) -> Intake:
    """The open IE intake: the first one demo-data makes."""
    return db.session.scalar(select(Intake).join(Program).where(Program.code == "IE")
                             .order_by(Intake.id).limit(1))


def _statuses(db, intake) -> dict[str, str]:
    """Each demo application's status, by its teacher's email."""
    rows = db.session.execute(
        select(User.email, Application.status)
        .join(Application, Application.teacher_id == User.id)
        .where(Application.intake_id == intake.id)
    )
    return {email: str(status) for email, status in rows}


def test_demo_applications_cover_every_queue_status_through_the_services(app, db):
    """Each status once or twice, with history, documents on disk, seats and quiet emails."""
    from course_portal.enrollment.documents import detect_content_type, open_document

    _load(app)
    intake = _ie_intake(db)
    coordinator = db.session.scalar(select(User).where(User.email == "coordinator@example.com"))
    applications = {a.teacher.email: a for a in db.session.scalars(
        select(Application).where(Application.intake_id == intake.id))}

    assert _statuses(db, intake) == {
        "wang.fang@example.com": "approved", "ouyang.nana@example.com": "submitted",
        "chen.hao@example.com": "submitted", "zhang.jing@example.com": "waitlisted",
        "li.wei@example.com": "rejected", "liu.yang@example.com": "draft",
    }
    # the other five are the finished intake's
    assert db.session.scalar(select(func.count()).select_from(Application)
                             .where(Application.intake_id != intake.id)) == 5
    approved = sum(a.holds_seat for a in applications.values())
    assert intake.seats_taken == approved == 1
    rejected = applications["li.wei@example.com"]
    assert "Intellectual Systems" in rejected.reason
    assert [str(e.to_status) for e in rejected.events] == ["draft", "submitted", "rejected"]
    assert rejected.events[-1].actor_id == coordinator.id
    assert rejected.events[1].actor_id == rejected.teacher_id
    draft = applications["liu.yang@example.com"]
    assert draft.consent_at is None and draft.submitted_at is None
    for application in applications.values():
        kinds = {d.kind.value: d.content_type for d in application.documents}
        assert kinds == {"diploma": "application/pdf", "passport": "image/png",
                         "cv": "application/pdf"}
        for document in application.documents:
            data = open_document(document).read_bytes()
            assert detect_content_type(data) == document.content_type
            assert document.original_filename.endswith((".pdf", ".png"))
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert {m.kind for m in messages if m.kind.startswith("application.")} >= {
        "application.submitted", "application.approved", "application.waitlisted",
        "application.rejected"}
    # marked sent without being sent: a mail server configured later sends none of them
    assert all(m.sent_at is not None and m.attempts == 0 for m in messages)


def test_demo_pdf_is_a_real_one_page_pdf():
    """The bytes literal's cross-reference table is right: a strict reader opens it."""
    import io

    from pypdf import PdfReader

    from course_portal.ops.demo_applications import DEMO_PDF

    reader = PdfReader(io.BytesIO(DEMO_PDF), strict=True)
    assert len(reader.pages) == 1
    assert "Demo document" in reader.pages[0].extract_text()


def test_queue_shows_the_demo_applications_to_the_demo_coordinator(app, db, client):
    """What a new user sees on /review?status=all: five applications; the draft stays private."""
    _load(app)
    coordinator = db.session.scalar(select(User).where(User.email == "coordinator@example.com"))
    with client.session_transaction() as session:
        session["_user_id"] = coordinator.get_id()
        session["_fresh"] = True

    intake = _ie_intake(db)
    # in Russian, the coordinator's language
    response = client.get(f"/review?status=all&intake={intake.id}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    for name in ("王芳", "欧阳娜娜", "陈浩", "张静", "李伟"):
        assert name in page
    assert "刘洋" not in page  # a draft is the teacher's unfinished work
    assert "5 заявок" in page


def test_a_later_run_creates_only_missing_applications_and_not_after_the_window(
        app, db, monkeypatch):
    """A withdrawn one is left withdrawn; a deleted one comes back while the window is open."""
    from course_portal.enrollment import services
    from course_portal.ops import demo_applications

    _load(app)
    intake = _ie_intake(db)
    ouyang = db.session.scalar(select(User).where(User.email == "ouyang.nana@example.com"))
    services.withdraw(db.session.scalar(select(Application).where(
        Application.teacher_id == ouyang.id, Application.intake_id == intake.id)), ouyang)
    draft = db.session.scalar(select(Application).join(User, User.id == Application.teacher_id)
                              .where(User.email == "liu.yang@example.com",
                                     Application.intake_id == intake.id))
    db.session.delete(draft)
    db.session.commit()
    counts = _row_counts(db)

    closed = intake.applications_close_on + timedelta(days=1)
    monkeypatch.setattr(demo_applications, "portal_today", lambda: closed)
    output = _load(app).output

    assert "1 demo applications not created" in output
    assert "no longer accepts applications" in output
    assert _row_counts(db) == counts

    monkeypatch.undo()
    output = _load(app).output

    assert "created: 1 applications, 3 documents" in output
    assert _statuses(db, intake)["ouyang.nana@example.com"] == "withdrawn"
    assert _statuses(db, intake)["liu.yang@example.com"] == "draft"


# --- the finished intake and its certificates ----------------------------------------------


def _finished_intake(db) -> Intake:
    return db.session.scalar(select(Intake).join(Program).where(
        Program.code == "IE", Intake.ends_on < portal_today()))


def _certificates(db) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def test_the_finished_intake_went_through_the_services_and_was_closed_by_the_rules(app, db):
    from course_portal.progress.records import result_history

    _load(app)
    intake = _finished_intake(db)
    today = portal_today()
    coordinator = db.session.scalar(select(User).where(User.email == "coordinator@example.com"))

    assert intake.title == demo.season_title(intake.starts_on)
    assert intake.starts_on == demo.add_months(today, -8)
    assert intake.applications_close_on < intake.starts_on < intake.ends_on < today
    assert intake.seats_taken == 5
    assert _statuses(db, intake) == {
        "wang.fang@example.com": "completed", "zhang.jing@example.com": "completed",
        "ouyang.nana@example.com": "completed", "chen.hao@example.com": "completed",
        "liu.yang@example.com": "not_completed",
    }
    applications = {a.teacher.email: a for a in db.session.scalars(
        select(Application).where(Application.intake_id == intake.id))}
    missed = applications["liu.yang@example.com"]
    assert missed.events[-1].reason == "attendance 72% of 80% required"
    for application in applications.values():
        assert [str(e.to_status) for e in application.events] == [
            "draft", "submitted", "approved", "enrolled", str(application.status)]
        assert [e.actor_id for e in application.events[2:]] == [coordinator.id] * 3
        assert len(application.documents) == 3
        # dated when they happened, in the intake's past, not on the day demo-data ran
        assert all(e.created_at.date() <= intake.ends_on for e in application.events)
    # every value came in through the grid, so the history has it; one hours cell was corrected
    history = result_history(applications["ouyang.nana@example.com"])
    assert len(history) == 7 * 2 + 1 + 1
    assert {(c.old_value, c.new_value) for c in history if c.module and c.module.position == 3
            and c.field == "attended_hours"} == {("0", "4"), ("4", "8")}
    assert all(c.actor_id == coordinator.id for c in history)
    schedule = db.session.scalars(select(ModuleSchedule).where(
        ModuleSchedule.intake_id == intake.id)).all()
    assert len(schedule) == 7
    assert min(s.starts_on for s in schedule) == intake.starts_on
    assert max(s.ends_on for s in schedule) == intake.ends_on


def test_the_registry_shows_valid_revoked_superseded_and_the_replacement(app, db):
    _load(app)
    year = portal_today().year
    program = db.session.scalar(select(Program).where(Program.code == "IE"))
    certificates = _certificates(db)
    by_status = {status: [c for c in certificates if c.status == status]
                 for status in CertificateStatus}

    assert [c.registry_number for c in certificates] == [
        f"IE-{year}-{n:04d}" for n in range(1, 6)]
    assert [c.sequence for c in certificates] == [1, 2, 3, 4, 5]
    assert db.session.get(RegistryCounter, (program.id, year)).last_number == 5
    (revoked,) = by_status[CertificateStatus.REVOKED]
    (superseded,) = by_status[CertificateStatus.SUPERSEDED]
    assert len(by_status[CertificateStatus.ISSUED]) == 3
    assert revoked.revoked_reason == demo_progress.REVOKE_REASON
    assert revoked.application.teacher.email == "zhang.jing@example.com"
    replacement = superseded.replaced_by
    assert replacement.status == CertificateStatus.ISSUED
    assert replacement.replaces_id == superseded.id
    assert replacement.reissue_reason == demo_progress.REISSUE_REASON
    assert replacement.application_id == superseded.application_id
    assert superseded.application.teacher.email == "chen.hao@example.com"
    missed = db.session.scalar(select(Application).join(User, User.id == Application.teacher_id)
                               .where(User.email == "liu.yang@example.com",
                                      Application.intake_id == _finished_intake(db).id))
    assert all(c.application_id != missed.id for c in certificates)
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind.like("certificate.%"))).all()
    assert sorted(m.kind for m in messages) == [
        "certificate.issued"] * 4 + ["certificate.reissued", "certificate.revoked"]
    assert all(m.sent_at is not None and m.attempts == 0 for m in messages)


def test_demo_pdfs_are_stored_with_their_sha256(app, db):
    import hashlib

    _load(app)

    for certificate in _certificates(db):
        assert certificate.pdf.startswith(b"%PDF-")
        assert hashlib.sha256(certificate.pdf).hexdigest() == certificate.pdf_sha256
        assert certificate.pdf_size == len(certificate.pdf)
        assert certificate.snapshot["registry_number"] == certificate.registry_number


def test_the_verify_page_shows_a_demo_certificate_valid_and_the_revoked_one_revoked(
        app, db, client):
    _load(app)
    certificates = _certificates(db)
    valid = certificates[0]
    revoked = next(c for c in certificates if c.status == CertificateStatus.REVOKED)
    superseded = next(c for c in certificates if c.status == CertificateStatus.SUPERSEDED)

    valid_page = client.get(f"/verify/{valid.verification_code}").get_data(as_text=True)
    revoked_page = client.get(f"/verify/{revoked.verification_code}").get_data(as_text=True)
    superseded_page = client.get(f"/verify/{superseded.verification_code}").get_data(
        as_text=True)

    assert "Valid" in valid_page and "Revoked" not in valid_page
    assert valid.pdf_sha256 in valid_page.replace("<wbr>", "")  # broken into lines of 16
    assert "Revoked" in revoked_page
    assert demo_progress.REVOKE_REASON in revoked_page
    assert "Superseded" in superseded_page
    assert superseded.replaced_by.registry_number in superseded_page


def test_a_later_run_only_issues_a_missing_certificate(app, db):
    """Certificates are looked up by application: one deleted is issued again, nothing else."""
    _load(app)
    wang = next(c for c in _certificates(db) if c.sequence == 1)
    db.session.delete(wang)
    db.session.commit()

    output = _load(app).output

    assert "created: 1 certificates" in output
    year = portal_today().year
    assert f"certificates issued: IE-{year}-0006" in output
    assert len(_certificates(db)) == 5
    assert _statuses(db, _finished_intake(db))["wang.fang@example.com"] == "completed"
