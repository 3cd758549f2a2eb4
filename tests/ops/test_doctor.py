"""flask doctor: what it tells an operator on a ready machine and on a broken one."""

import pytest
from sqlalchemy import create_engine, text

from course_portal.core.outbox import OutboxMessage
from course_portal.db import utcnow
from course_portal.extensions import db
from course_portal.ops import doctor
from tests import factories


def _doctor(app):
    return app.test_cli_runner().invoke(args=["doctor"])


def _line(output: str, name: str) -> str:
    (line,) = [line for line in output.splitlines() if line.split()[1:2] == [name]]
    return line


def test_doctor_passes_on_a_ready_machine(app, db):
    """Needs libharfbuzz-subset0, Pango and a CJK font: make test installs them."""
    result = _doctor(app)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(" 0 FAIL")
    assert "\nFAIL" not in result.output
    for name in ("database", "migrations", "libharfbuzz-subset0", "pango", "redis", "outbox"):
        assert _line(result.output, name).startswith("OK  ")
    assert _line(result.output, "cjk").startswith("OK  ")
    # the test settings have no mail server: a warning, not a failure
    assert _line(result.output, "mail").startswith("WARN")
    assert "COURSE_PORTAL_MAIL_SERVER" in _line(result.output, "mail")
    assert "jobs run in place" in _line(result.output, "redis")


def test_missing_harfbuzz_subset_fails_with_the_apt_get_line(app, db, monkeypatch):
    real = doctor.find_library
    monkeypatch.setattr(doctor, "find_library",
                        lambda name: None if name == "harfbuzz-subset" else real(name))

    result = _doctor(app)

    assert result.exit_code == 1
    line = _line(result.output, "libharfbuzz-subset0")
    assert line.startswith("FAIL")
    assert "apt-get install libharfbuzz-subset0" in line
    assert "10-30x slower" in line


def test_missing_pango_and_cjk_font_fail(app, db):
    checks = {c.name: c for c in doctor.run_checks(finder=lambda name: None,
                                                   font_lister=lambda: "")}

    assert checks["pango"].status == doctor.FAIL
    assert checks["libharfbuzz-subset0"].status == doctor.FAIL
    assert checks["cjk font"].status == doctor.FAIL
    assert checks["cjk font"].hint == "apt-get install fonts-noto-cjk"
    assert checks["database"].status == doctor.OK


def test_no_fc_list_is_a_failure_not_a_crash(app):
    def missing():
        raise FileNotFoundError("fc-list")

    assert doctor.check_cjk_font(lambda: None).status == doctor.FAIL
    assert "fontconfig" in doctor.check_cjk_font(lambda: None).hint
    assert doctor.check_cjk_font(missing).status == doctor.FAIL


def test_cjk_font_names_simplified_chinese_first(app):
    check = doctor.check_cjk_font(lambda: "Noto Sans CJK JP,Noto Sans CJK JP Regular\n"
                                          "Noto Serif CJK SC\n")
    assert check.status == doctor.OK
    assert check.detail.startswith("Noto Serif CJK SC")


def test_serif_font_without_its_italic_face_names_the_package(app):
    # what fc-list printed on a minimal Debian with fonts-dejavu-core only
    core_only = ":style=Bold\n:style=Book\n:style=Condensed,Book\n"

    check = doctor.check_serif_font(lambda: core_only)

    assert check.status == doctor.FAIL
    assert "Italic" in check.detail
    assert check.hint == "apt-get install fonts-dejavu-extra"
    assert doctor.check_serif_font(lambda: "").hint == (
        "apt-get install fonts-dejavu-core fonts-dejavu-extra")
    assert doctor.check_serif_font(lambda: None).status == doctor.FAIL


def test_serif_font_on_this_machine_has_every_face(app):
    # make installs fonts-dejavu-extra with the rest of the system packages
    assert doctor.check_serif_font().status == doctor.OK


def test_empty_database_is_not_at_head(make_app, tmp_path):
    make_app()  # the first app built cleans the shared test database afterwards
    empty = make_app(DATABASE_URL="sqlite:///" + str(tmp_path / "empty.sqlite3"))

    result = _doctor(empty)

    assert result.exit_code == 1
    line = _line(result.output, "migrations")
    assert line.startswith("FAIL")
    assert "no schema yet" in line
    assert "run: flask db upgrade" in line
    assert _line(result.output, "database").startswith("OK")


def test_database_at_an_unknown_revision_is_reported(make_app, tmp_path):
    make_app()
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('1f2e3d4c5b6a')"))
    engine.dispose()
    old = make_app(DATABASE_URL=f"sqlite:///{path}")

    result = _doctor(old)

    assert result.exit_code == 1
    line = _line(result.output, "migrations")
    assert line.startswith("FAIL")
    assert "1f2e3d4c5b6a" in line
    assert next(iter(doctor.migration_scripts().get_heads())) in line


def test_unreachable_database_fails(make_app):
    make_app()
    broken = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/x")

    result = _doctor(broken)

    assert result.exit_code == 1
    assert _line(result.output, "database").startswith("FAIL")
    assert "COURSE_PORTAL_DATABASE_URL" in _line(result.output, "database")
    assert _line(result.output, "migrations").startswith("FAIL")


def test_unreachable_redis_fails(make_app):
    configured = make_app(REDIS_URL="redis://127.0.0.1:1/0")

    result = _doctor(configured)

    assert result.exit_code == 1
    line = _line(result.output, "redis")
    assert line.startswith("FAIL")
    assert "COURSE_PORTAL_REDIS_URL" in line


def test_mail_missing_is_a_failure_in_production(make_app):
    production = make_app(ENV="production")
    with production.app_context():
        check = doctor.check_mail()
        secret = doctor.check_secret_key()

    assert check.status == doctor.FAIL
    assert "COURSE_PORTAL_MAIL_SERVER" in check.hint
    assert secret.status == doctor.OK


def test_development_key_is_a_warning(make_app):
    development = make_app(ENV="development", SECRET_KEY="")
    with development.app_context():
        check = doctor.check_secret_key()

    assert check.status == doctor.WARN
    assert "development key" in check.detail


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"failed_at": utcnow()}, "1 failed for good"),
        ({"created_at": utcnow().replace(year=2000)}, "1 pending for more than an hour"),
    ],
)
def test_outbox_warns_about_failed_and_stale_messages(app, db, fields, expected):
    db.session.add(OutboxMessage(to_address="wang.fang@example.com", subject="s",
                                 body_text="b", **fields))
    db.session.add(OutboxMessage(to_address="li.wei@example.com", subject="fresh", body_text="b"))
    db.session.commit()

    result = _doctor(app)

    line = _line(result.output, "outbox")
    assert line.startswith("WARN")
    assert expected in line
    assert result.exit_code == 0


def test_doctor_warns_while_a_programmes_certificates_have_nobody_to_sign(app):
    from course_portal.ops.doctor import check_signatories

    program = factories.make_program(code="SG")
    db.session.commit()
    check = check_signatories()
    assert check.status == "WARN" and "SG" in check.detail and "/certificates/issuer" in check.hint
    factories.make_signatories(program)
    db.session.commit()
    assert check_signatories().status == "OK"
