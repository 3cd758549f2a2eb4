"""flask demo-data: what an operator sees after make run, and that a second run changes nothing."""

from datetime import timedelta

from flask_babel import refresh
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.catalog.models import Institute, Intake, Module, PartnerUniversity, Program
from course_portal.catalog.services import portal_today
from course_portal.ops import demo
from tests import factories

TABLES = (PartnerUniversity, Institute, Program, Module, Intake, User, TeacherProfile)


def _row_counts(db) -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in TABLES}


def _intake_dates(db) -> dict[str, tuple]:
    return {
        intake.program.code: (intake.title, intake.applications_open_on,
                              intake.applications_close_on, intake.starts_on, intake.ends_on,
                              intake.capacity)
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
                      "intakes": 2, "users": 7, "teacher_profiles": 5}
    assert _row_counts(db) == counts
    assert _intake_dates(db) == dates
    assert "created: 5 partner universities, 2 institutes, 2 programs" in first.output
    assert "created: nothing" in second.output
    assert "updated to the demo values: nothing" in second.output


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
    assert "admin@example.com        admin        (changed since demo-data created it)" in output


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
        (intake,) = program.intakes
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
    assert len(teachers) == 5
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
    assert output.count(demo.DEMO_PASSWORD) == 7
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
