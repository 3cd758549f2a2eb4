"""The migration that made certificates acceptable to officials keeps every issued PDF and snapshot
byte for byte, on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.

Rows are written with plain SQL at the revision before it, as a database in production holds
them, then the database is upgraded, downgraded one step and upgraded again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from course_portal import create_app
from course_portal.extensions import db
from tests.conftest import base_config, scratch_database

BEFORE = "b70a3e67143f"
REVISION = "3d51008410bc"
SPBPU_RU = "ФГАОУ ВО «Санкт-Петербургский политехнический университет Петра Великого»"
SPBPU_EN = "Peter the Great St. Petersburg Polytechnic University"
NOW = datetime(2026, 3, 30, 9, 15, tzinfo=UTC)


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A new, empty database of the test dialect, of this test alone, dropped afterwards."""
    if not database_url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "keeps-pdfs.sqlite3")
        return
    with scratch_database(database_url, "keeps_pdfs") as url:
        yield url


@pytest.fixture
def migration_app(empty_database_url, tmp_path):
    """An app on the empty database, inside an app context."""
    app = create_app(base_config(empty_database_url, tmp_path / "instance"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def insert(conn, table: str, **values) -> int:
    """INSERT one row with plain SQL; values bound by their Python type. Returns values["id"]."""
    types = {datetime: sa.DateTime(timezone=True), date: sa.Date(), bytes: sa.LargeBinary()}
    # PostgreSQL takes the JSON's text as it is written; SQLite stores the text itself
    params = [f"CAST(:{name} AS JSON)" if name == "snapshot" and is_postgresql() else f":{name}"
              for name in values]
    statement = text(f"INSERT INTO {table} ({', '.join(values)}) "  # noqa: S608 (our own names)
                     f"VALUES ({', '.join(params)})")
    statement = statement.bindparams(*(
        sa.bindparam(name, type_=types[type(value)])
        for name, value in values.items() if type(value) in types))
    conn.execute(statement, values)
    return values["id"]


def layout_1_snapshot(number: str, hours: int) -> str:
    """A snapshot as layout 1 stored it: credited hours, "Issued by", no layout_version."""
    return json.dumps({
        "registry_number": number, "name_zh": "欧阳娜娜", "name_latin": "OUYANG Nana",
        "name_ru": "", "partner_university_en": "", "partner_university_zh": "",
        "partner_university_ru": "", "program_title_ru": "Инвестиционная экосистема",
        "program_title_en": "Investment Ecosystem", "program_title_zh": "投资生态系统",
        "institute_name_ru": "Институт промышленного менеджмента",
        "institute_name_en": "Institute of Industrial Management",
        "institute_name_zh": "工业管理学院", "hours": hours, "starts_on": "2025-12-01",
        "ends_on": "2026-03-27", "result": "passed", "issued_on": "2026-03-30",
        "issued_by": "Иванова А. А.",
        "university_name_en": SPBPU_EN,
        "university_name_ru": "Санкт-Петербургский политехнический университет Петра Великого",
        "university_name_zh": "彼得大帝圣彼得堡理工大学",
    }, ensure_ascii=False)


def fill_old_database() -> dict[int, dict]:
    """Two programmes (blended, on site), their intakes, a teacher, and three certificates of
    layout 1: one superseded by its re-issue, one valid. Returns what each certificate holds."""
    stamps = {"created_at": NOW, "updated_at": NOW}
    with db.engine.begin() as conn:
        insert(conn, "institutes", id=1, name_en="Institute of Industrial Management",
               name_zh="工业管理学院", name_ru="Институт промышленного менеджмента", **stamps)
        programs = {
            1: ("IE", "blended"),
            2: ("RU", "on_site"),
        }
        for program_id, (code, mode) in programs.items():
            insert(conn, "programs", id=program_id, code=code, institute_id=1,
                   title_en=f"Programme {code}", title_zh="项目", title_ru="Программа",
                   description_en="", description_zh="", description_ru="", mode=mode,
                   duration_months=4, is_published=True, **stamps)
            insert(conn, "intakes", id=program_id, program_id=program_id, title="Spring 2026",
                   starts_on=date(2025, 12, 1), ends_on=date(2026, 3, 27),
                   applications_open_on=date(2025, 9, 1), applications_close_on=date(2025, 10, 1),
                   capacity=20, seats_taken=1, is_open=True, **stamps)
        for user_id in (1, 2):
            insert(conn, "users", id=user_id, email=f"teacher{user_id}@example.edu.cn",
                   password_hash="scrypt:1024:8:1$x$y", role="teacher", is_enabled=True,
                   email_confirmed_at=NOW, session_token=secrets.token_hex(16), locale="zh",
                   display_name="", **stamps)
            insert(conn, "teacher_profiles", id=user_id, user_id=user_id, family_name_zh="欧阳",
                   given_name_zh="娜娜", family_name_latin="Ouyang", given_name_latin="Nana",
                   name_ru="", born_on=date(1988, 5, 17), department="", position="",
                   academic_title="lecturer", phone="", wechat_id="", **stamps)
            insert(conn, "applications", id=user_id, teacher_id=user_id, intake_id=user_id,
                   status="enrolled", motivation="", funding_source="home_university",
                   funding_other="", consent_at=NOW, submitted_at=NOW, reason="", **stamps)
        rows = [
            # id, application, program, number, hours, status, replaces
            (1, 1, 1, "IE-2026-0001", 66, "superseded", None),
            (2, 1, 1, "IE-2026-0002", 70, "issued", 1),
            (3, 2, 2, "RU-2026-0001", 72, "issued", None),
        ]
        held = {}
        for cid, application_id, program_id, number, hours, status, replaces in rows:
            pdf = b"%PDF-1.7\n" + secrets.token_bytes(4096) + b"\x00\r\n%%EOF\n"
            snapshot = layout_1_snapshot(number, hours)
            insert(conn, "certificates", id=cid, registry_number=number, program_id=program_id,
                   year=2026, sequence=int(number[-4:]),
                   verification_code=secrets.token_urlsafe(24), application_id=application_id,
                   status=status, snapshot=snapshot, pdf=pdf,
                   pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf_size=len(pdf),
                   is_signed=False, issued_at=NOW, revoked_reason="",
                   reissue_reason="Исправлено" if replaces else "",
                   superseded_at=NOW if status == "superseded" else None, replaces_id=replaces)
            held[cid] = {"sha256": hashlib.sha256(pdf).hexdigest(), "pdf": pdf,
                         "snapshot": snapshot}
    return held


def stored() -> dict[int, dict]:
    """Each certificate's PDF, its SHA-256 and its snapshot as the database holds the text."""
    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, pdf, CAST(snapshot AS TEXT) FROM certificates ORDER BY id")).all()
    return {cid: {"sha256": hashlib.sha256(bytes(pdf)).hexdigest(), "pdf": bytes(pdf),
                  "snapshot": snapshot} for cid, pdf, snapshot in rows}


def current_revision() -> str:
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def check_the_new_columns() -> None:
    with db.engine.connect() as conn:
        register = conn.execute(text(
            "SELECT id, CAST(register_data AS TEXT) FROM certificates ORDER BY id")).all()
        assert [(cid, json.loads(data)) for cid, data in register] == [(1, {}), (2, {}), (3, {})]
        intakes = conn.execute(text(
            "SELECT intakes.id, intakes.delivery, programs.mode, intakes.study_form "
            "FROM intakes JOIN programs ON programs.id = intakes.program_id "
            "ORDER BY intakes.id")).all()
        assert [tuple(row) for row in intakes] == [
            (1, "blended", "blended", "full_time"), (2, "on_site", "on_site", "full_time")]
        [organisation] = conn.execute(text(
            "SELECT id, full_name_ru, full_name_en, full_name_zh, city_ru, seal_sha256 "
            "FROM issuing_organisation")).all()
        assert tuple(organisation) == (1, SPBPU_RU, SPBPU_EN, "彼得大帝圣彼得堡理工大学",
                                       "Санкт-Петербург", "")
        profiles = conn.execute(text(
            "SELECT sex, citizenship, education_level, snils FROM teacher_profiles")).all()
        assert [tuple(row) for row in profiles] == [(None, "", None, "")] * 2
        assert conn.scalar(text("SELECT count(*) FROM signatories")) == 0


def head_revision() -> str:
    """The one head of the migrations, checked to come after the revision under test."""
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    [head] = script.get_heads()
    assert script.get_revision(REVISION).down_revision == BEFORE
    assert REVISION in {r.revision for r in script.iterate_revisions(head, BEFORE)}
    return head


def test_the_migration_keeps_every_pdf_and_snapshot_byte_for_byte(migration_app):
    upgrade(revision=BEFORE)
    assert current_revision() == BEFORE
    held = fill_old_database()
    assert stored() == held

    upgrade()

    assert current_revision() == head_revision()
    assert stored() == held
    check_the_new_columns()

    # the portal reads them as the certificates of layout 1 they are
    from course_portal.certificates import jobs
    from course_portal.certificates.models import Certificate

    certificate = db.session.get(Certificate, 2)
    assert certificate.snapshot == json.loads(held[2]["snapshot"])
    assert certificate.register_data == {}
    assert certificate.pdf == held[2]["pdf"]
    assert [c.registry_number for c in jobs.printed_credited_hours()] == [
        "IE-2026-0002", "RU-2026-0001"]
    db.session.remove()

    # one step down from the head, then down past the revision under test
    downgrade(revision="-1")
    assert stored() == held
    downgrade(revision=BEFORE)

    assert current_revision() == BEFORE
    assert stored() == held
    with db.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("certificates")}
        assert "register_data" not in columns
        assert "issuing_organisation" not in sa.inspect(conn).get_table_names()

    upgrade()

    assert current_revision() == head_revision()
    assert stored() == held
    check_the_new_columns()
