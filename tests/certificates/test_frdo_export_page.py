"""The ФИС ФРДО download: a period's certificates as the template's rows, read back from the XLSX."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from course_portal.accounts.models import Sex
from course_portal.catalog.models import StudyForm
from course_portal.certificates import frdo, services
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core.audit import AuditEvent
from course_portal.core.clock import portal_today
from course_portal.extensions import db
from tests.certificates.helpers import make_completed, make_finished_intake

C = CertificateStatus
DOC = Path(__file__).resolve().parents[2] / "docs" / "frdo.md"
URL = "/certificates/manage/registry/frdo.xlsx"

NUMBER = "Номер документа"
ISSUED = "Дата выдачи документа"
ORIGINAL_COLUMNS = (
    "Наименование документа об образовании (оригинала)", "Серия (оригинала)",
    "Номер (оригинала)", "Регистрационный N (оригинала)", "Дата выдачи (оригинала)",
    "Фамилия получателя (оригинала)", "Имя получателя (оригинала)",
    "Отчество получателя (оригинала)",
)


def documented_headers() -> list[str]:
    """The header column of the table under "## Columns" in docs/frdo.md, in order."""
    section = DOC.read_text(encoding="utf-8").split("\n## Columns\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| \d+ \| [A-Z]{1,2} \| `([^`]+)` \|", section, re.MULTILINE)


def workbook_rows(body: bytes) -> tuple[list[str], dict[str, dict]]:
    """The sheet's header and its rows by document number, each row as {header: cell}."""
    workbook = load_workbook(io.BytesIO(body))
    assert workbook.sheetnames == [frdo.SHEET_TITLE]
    sheet = workbook[frdo.SHEET_TITLE]
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    by_number = {}
    for row in rows[1:]:
        cells = dict(zip(header, row, strict=True))
        by_number[cells[NUMBER].value] = cells
    order = [row[header.index(NUMBER)].value for row in rows[1:]]
    return header, by_number | {"__order__": order}


def day_of(cell) -> date:
    """A date cell's day; it must hold a real date, shown as the template shows dates."""
    assert cell.is_date, f"{cell.coordinate} holds {cell.value!r}, not a date"
    assert cell.number_format == frdo.DATE_FORMAT
    value = cell.value
    return value.date() if isinstance(value, datetime) else value


def text_of(cell):
    """A text cell's value; an empty cell as ""."""
    if cell.value is None:
        return ""
    assert cell.data_type == "s", f"{cell.coordinate} is not text"
    return cell.value


@pytest.fixture
def coordinator(login_as):
    return login_as("coordinator")


@pytest.fixture
def period():
    today = portal_today()
    return today - timedelta(days=10), today


def issue_on(day: date, application, actor):
    """Issue at noon of an earlier day of the portal (the whole portal's clock moves there)."""
    noon = datetime.combine(day, time(12, 0), tzinfo=ZoneInfo("Europe/Moscow"))
    with time_machine.travel(noon, tick=False):
        assert portal_today() == day
        return services.issue_certificate(application, actor)


@pytest.fixture
def issued(coordinator):
    """An original, a re-issued pair, a revoked one, all today; one issued 20 days ago."""
    intake = make_finished_intake(study_form=StudyForm.PART_TIME)
    outside = issue_on(portal_today() - timedelta(days=20),
                       make_completed(intake, name_ru="Ли Вэй"), coordinator)
    original = services.issue_certificate(
        make_completed(intake, name_ru="Оуян Нана", sex=Sex.FEMALE, snils="112-233-445 95",
                       born_on=date(1988, 5, 17)), coordinator)
    misspelt = make_completed(intake, name_ru="Чжан Мим")
    replaced = services.issue_certificate(misspelt, coordinator)
    revoked = services.issue_certificate(make_completed(intake, name_ru="Ван Фан"), coordinator)
    db.session.commit()
    misspelt.teacher.profile.name_ru = "Чжан Минь"
    replacement = services.reissue(replaced, coordinator, "Имя исправлено")
    services.revoke(revoked, coordinator, "Выдано по ошибке")
    db.session.commit()
    db.session.expire_all()
    return {"intake": intake, "outside": outside, "original": original, "replaced": replaced,
            "replacement": replacement, "revoked": revoked}


def test_the_export_of_a_period_read_back_column_by_column(client, coordinator, issued, period):
    start, end = period
    response = client.get(URL, query_string={"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=frdo-{start.isoformat()}-{end.isoformat()}.xlsx")
    assert response.headers["Cache-Control"] == "private, no-store"

    header, rows = workbook_rows(response.data)
    documented = documented_headers()
    assert len(documented) == 40
    assert header == documented == [title for title, _ in frdo.FRDO_COLUMNS]

    certificate = {key: db.session.get(Certificate, c.id) for key, c in issued.items()
                   if key != "intake"}
    in_period = [certificate[k] for k in ("original", "replaced", "revoked", "replacement")]
    assert rows.pop("__order__") == [c.registry_number for c in sorted(
        in_period, key=lambda c: (c.program_id, c.year, c.sequence))]
    assert certificate["outside"].registry_number not in rows  # issued before the period
    assert set(rows) == {c.registry_number for c in in_period}

    intake = issued["intake"]
    today = portal_today()
    for c in in_period:
        row = rows[c.registry_number]
        data = c.register_data
        assert text_of(row["Вид документа"]) == "Удостоверение о повышении квалификации"
        assert text_of(row["Подтверждение утраты"]) == "Нет"
        assert text_of(row["Серия документа"]) == "Нет"
        assert text_of(row[NUMBER]) == c.registry_number
        assert text_of(row["Регистрационный номер"]) == c.registry_number
        assert day_of(row[ISSUED]) == date.fromisoformat(c.snapshot["issued_on"]) == today
        assert text_of(row["Дополнительная профессиональная программа (повышение квалификации/ "
                           "профессиональная переподготовка)"]) == "Повышение квалификации"
        assert text_of(row["Наименование дополнительной профессиональной программы"]) == (
            "Инвестиционная экосистема")
        assert text_of(row["Уровень образования ВО/СПО"]) == "Высшее образование"
        assert row["Год начала обучения (для документа о квалификации)"].value == (
            intake.starts_on.year)
        assert row["Год окончания обучения (для документа о квалификации)"].value == (
            intake.ends_on.year)
        assert row["Срок обучения, часов (для документа о квалификации)"].value == 72
        family, given = c.snapshot["name_ru"].split()
        assert (data["family_name_ru"], data["given_name_ru"]) == (family, given)
        assert text_of(row["Фамилия получателя"]) == family
        assert text_of(row["Имя получателя"]) == given
        assert row["Отчество получателя"].value is None
        assert day_of(row["Дата рождения получателя"]) == date.fromisoformat(data["born_on"])
        assert text_of(row["Пол получателя"]) == {"male": "Муж", "female": "Жен"}[data["sex"]]
        assert text_of(row["СНИЛС"]) == data["snils"]
        assert text_of(row["Форма обучения"]) == "Очно-заочная (вечерняя)"
        assert text_of(row["Источник финансирования обучения"]) == "Платное обучение"
        assert text_of(row["Форма получения образования на момент прекращения образовательных "
                           "отношений"]) == "в образовательной организации"
        assert text_of(row["Гражданство получателя (код страны по ОКСМ)"]) == "156"
        for empty in ("Наименование области профессиональной деятельности",
                      "Укрупненные группы специальностей",
                      "Наименование квалификации, профессии, специальности",
                      "Серия документа о ВО/СПО", "Номер документа о ВО/СПО",
                      "Номер документа для изменения"):
            assert row[empty].value is None, empty
        assert all(cell.data_type != "f" for cell in row.values())

    original = rows[certificate["original"].registry_number]
    assert text_of(original["Пол получателя"]) == "Жен"
    assert text_of(original["СНИЛС"]) == "112-233-445 95"
    assert day_of(original["Дата рождения получателя"]) == date(1988, 5, 17)
    assert (text_of(original["Фамилия получателя"]), text_of(original["Имя получателя"])) == (
        "Оуян", "Нана")
    assert text_of(rows[certificate["revoked"].registry_number]["СНИЛС"]) == ""

    statuses = {number: (text_of(row["Статус документа"]), text_of(row["Подтверждение обмена"]),
                         text_of(row["Подтверждение уничтожения"]))
                for number, row in rows.items()}
    assert statuses == {
        certificate["original"].registry_number: ("Оригинал", "Нет", "Нет"),
        certificate["replaced"].registry_number: (
            "Оригинал", "Обмен по причине наличия недостоверной информации", "Нет"),
        certificate["revoked"].registry_number: ("Оригинал", "Нет", "Да"),
        certificate["replacement"].registry_number: ("Дубликат", "Нет", "Нет"),
    }

    replaced, replacement = certificate["replaced"], certificate["replacement"]
    assert replaced.status == C.SUPERSEDED and replacement.replaces_id == replaced.id
    duplicate = rows[replacement.registry_number]
    assert text_of(duplicate["Имя получателя"]) == "Минь"  # the corrected name
    assert text_of(duplicate[ORIGINAL_COLUMNS[0]]) == "Удостоверение о повышении квалификации"
    assert text_of(duplicate["Серия (оригинала)"]) == "Нет"
    assert text_of(duplicate["Номер (оригинала)"]) == replaced.registry_number
    assert text_of(duplicate["Регистрационный N (оригинала)"]) == replaced.registry_number
    assert day_of(duplicate["Дата выдачи (оригинала)"]) == date.fromisoformat(
        replaced.snapshot["issued_on"])
    assert text_of(duplicate["Фамилия получателя (оригинала)"]) == "Чжан"
    assert text_of(duplicate["Имя получателя (оригинала)"]) == "Мим"  # as the original had it
    assert duplicate["Отчество получателя (оригинала)"].value is None
    for number, row in rows.items():
        if number != replacement.registry_number:
            assert all(row[column].value is None for column in ORIGINAL_COLUMNS), number

    [audit] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "frdo.exported"))
    assert audit.actor_id == coordinator.id
    assert audit.details == {"start": start.isoformat(), "end": end.isoformat(), "rows": 4}


def test_an_original_replaced_in_the_period_comes_out_with_its_replacement(
        client, coordinator, period):
    start, end = period
    intake = make_finished_intake()
    old = issue_on(start - timedelta(days=5), make_completed(intake), coordinator)
    db.session.commit()
    new = services.reissue(old, coordinator, "Дата рождения исправлена")
    db.session.commit()

    response = client.get(URL, query_string={"start": start.isoformat(), "end": end.isoformat()})
    _, rows = workbook_rows(response.data)
    assert rows.pop("__order__") == [old.registry_number, new.registry_number]
    assert day_of(rows[old.registry_number][ISSUED]) == start - timedelta(days=5)
    assert text_of(rows[old.registry_number]["Подтверждение обмена"]).startswith("Обмен")
    assert day_of(rows[new.registry_number]["Дата выдачи (оригинала)"]) == (
        start - timedelta(days=5))

    # a period that ends before the re-issue has the original alone
    before = client.get(URL, query_string={"start": (start - timedelta(days=6)).isoformat(),
                                           "end": (start - timedelta(days=1)).isoformat()})
    _, rows = workbook_rows(before.data)
    assert rows.pop("__order__") == [old.registry_number]


@pytest.mark.parametrize(("query", "message"), [
    ({"start": "2026-03-10", "end": "2026-03-09"}, "The last day must not be before the first."),
    ({"start": "yesterday", "end": "2026-03-09"}, "Give a date."),
    ({"start": "2026-02-30", "end": "2026-03-09"}, "Give a date."),
    ({"start": "2026-03-01", "end": "2026-03-01" * 1000}, "Give a date."),
    ({"start": "2026-03-01"}, "Give the last day."),
    ({"end": "2026-03-01"}, "Give the first day."),
    ({}, "Give the first day."),
    ({"start": "", "end": ""}, "Give the first day."),
])
def test_a_bad_period_gives_the_registry_page_with_a_message(client, coordinator, query,
                                                             message):
    certificate = services.issue_certificate(make_completed(make_finished_intake()), coordinator)
    db.session.commit()
    response = client.get(URL, query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert message in page
    assert "Certificate registry" in page
    assert certificate.registry_number in page  # the registry's list is there too
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "frdo.exported")) is None


@pytest.mark.parametrize("query", [
    {"start": "9999-12-31", "end": "9999-12-31"},
    {"start": "0001-01-01", "end": "0001-01-02"},
    {"start": "0001-01-01", "end": "9999-12-31"},
    {"start": "9999-12-30", "end": "9999-12-30"},
    {"start": "0001-01-02", "end": "0001-01-03"},
])
def test_a_period_at_the_ends_of_the_calendar_is_not_a_server_error(client, coordinator, query):
    """DateField takes any year from 1 to 9999; the period's edges must not overflow."""
    response = client.get(URL, query_string=query)
    assert response.status_code in (200, 400), response.status_code


def test_the_export_needs_a_coordinator(client, login_as, period):
    start, end = period
    query = {"start": start.isoformat(), "end": end.isoformat()}
    assert client.get(URL, query_string=query).status_code == 302  # to the sign-in page
    login_as("teacher")
    assert client.get(URL, query_string=query).status_code == 403


def test_the_query_count_does_not_grow_with_the_certificates(client, coordinator, period,
                                                              count_queries):
    start, end = period
    intake = make_finished_intake()

    def queries_with(pairs: int) -> int:
        for _ in range(pairs):
            certificate = services.issue_certificate(make_completed(intake), coordinator)
            db.session.commit()
            services.reissue(certificate, coordinator, "Исправлено")
            services.issue_certificate(make_completed(intake), coordinator)
            db.session.commit()
        with count_queries() as statements:
            response = client.get(URL, query_string={"start": start.isoformat(),
                                                     "end": end.isoformat()})
        assert response.status_code == 200
        return len(statements)

    few = queries_with(1)
    many = queries_with(6)
    assert many == few
