"""The ФИС ФРДО export's columns, read from fake certificates: no app, no database."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from course_portal.certificates.frdo import FRDO_COLUMNS, frdo_rows, frdo_xlsx
from course_portal.certificates.models import CertificateStatus

DOC = Path(__file__).resolve().parents[2] / "docs" / "frdo.md"

ORIGINAL_COLUMNS = (
    "Наименование документа об образовании (оригинала)",
    "Серия (оригинала)",
    "Номер (оригинала)",
    "Регистрационный N (оригинала)",
    "Дата выдачи (оригинала)",
    "Фамилия получателя (оригинала)",
    "Имя получателя (оригинала)",
    "Отчество получателя (оригинала)",
)
REGISTER_COLUMNS = (
    "Уровень образования ВО/СПО",
    "Фамилия указанная в дипломе о ВО или СПО",
    "Фамилия получателя",
    "Имя получателя",
    "Отчество получателя",
    "Дата рождения получателя",
    "Пол получателя",
    "СНИЛС",
    "Источник финансирования обучения",
    "Гражданство получателя (код страны по ОКСМ)",
)


def documented_headers() -> list[str]:
    """The headers of the table under "## Columns" in docs/frdo.md, checked to be numbered in order."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Columns\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ([A-Z]{1,2}) \| `([^`]+)` \|", section, re.MULTILINE)
    assert rows, "no column rows found in docs/frdo.md"
    for index, (number, letter, _header) in enumerate(rows, start=1):
        assert int(number) == index
        assert letter == get_column_letter(index)
    return [header for _number, _letter, header in rows]


def register_data(**changes) -> dict:
    data = {
        "family_name_ru": "Оуян",
        "given_name_ru": "Нана",
        "patronymic_ru": "",
        "born_on": "1988-05-17",
        "sex": "female",
        "citizenship": "CN",
        "education_level": "higher",
        "snils": "",
        "funding": "home_university",
        "diploma_surname": "Оуян",
    }
    data.update(changes)
    return data


def certificate(number: str = "IE-2026-0003", *, status=CertificateStatus.ISSUED, replaces=None,
                issued_on: str = "2026-03-30", register: dict | None = None, snapshot=None):
    """A fake certificate carrying the attributes the export reads."""
    year, sequence = number.split("-")[1:]
    snap = {
        "registry_number": number,
        "program_title_ru": "Инвестиционная экосистема региона",
        "hours": 72,
        "starts_on": "2025-12-01",
        "ends_on": "2026-03-27",
        "issued_on": issued_on,
        "name_ru": "Оуян Нана",
        "study_form": "part_time",
        "delivery": "blended",
        "layout_version": 2,
    }
    if snapshot is not None:
        snap = snapshot
    fake = SimpleNamespace(
        registry_number=number, year=int(year), sequence=int(sequence), status=status,
        issued_at=datetime(2026, 3, 30, 9, 0, tzinfo=UTC), revoked_at=None, revoked_reason="",
        superseded_at=None, replaces=replaces, replaced_by=None, reissue_reason="",
        snapshot=snap, register_data=register_data() if register is None else register,
    )
    if replaces is not None:
        replaces.replaced_by = fake
    return fake


def row_of(fake) -> dict:
    header, row = list(frdo_rows([fake]))
    return dict(zip(header, row, strict=True))


def reissued_pair():
    """An original with a misspelt name, superseded, and the re-issue that corrects it."""
    original = certificate("IE-2025-0041", status=CertificateStatus.SUPERSEDED,
                           issued_on="2025-12-26", register=register_data(given_name_ru="Нанa"))
    original.superseded_at = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    replacement = certificate("IE-2026-0007", replaces=original, issued_on="2026-04-02")
    replacement.reissue_reason = "Исправлено имя"
    return original, replacement


def test_header_is_the_documented_template_order():
    documented = documented_headers()
    assert len(documented) == 40
    assert next(frdo_rows([])) == documented
    assert [header for header, _ in FRDO_COLUMNS] == documented


def test_an_original():
    cells = row_of(certificate())
    assert cells["Вид документа"] == "Удостоверение о повышении квалификации"
    assert cells["Статус документа"] == "Оригинал"
    assert cells["Подтверждение утраты"] == "Нет"
    assert cells["Подтверждение обмена"] == "Нет"
    assert cells["Подтверждение уничтожения"] == "Нет"
    assert cells["Серия документа"] == "Нет"
    assert cells["Номер документа"] == "IE-2026-0003"
    assert cells["Регистрационный номер"] == "IE-2026-0003"
    assert cells["Дата выдачи документа"] == date(2026, 3, 30)
    assert cells["Дополнительная профессиональная программа (повышение квалификации/ "
                 "профессиональная переподготовка)"] == "Повышение квалификации"
    assert cells["Наименование дополнительной профессиональной программы"] == (
        "Инвестиционная экосистема региона")
    assert cells["Год начала обучения (для документа о квалификации)"] == 2025
    assert cells["Год окончания обучения (для документа о квалификации)"] == 2026
    assert cells["Срок обучения, часов (для документа о квалификации)"] == 72
    assert cells["Уровень образования ВО/СПО"] == "Высшее образование"
    assert cells["Фамилия указанная в дипломе о ВО или СПО"] == "Оуян"
    assert cells["Фамилия получателя"] == "Оуян"
    assert cells["Имя получателя"] == "Нана"
    assert cells["Отчество получателя"] == ""
    assert cells["Дата рождения получателя"] == date(1988, 5, 17)
    assert cells["Пол получателя"] == "Жен"
    assert cells["СНИЛС"] == ""
    assert cells["Форма обучения"] == "Очно-заочная (вечерняя)"
    assert cells["Источник финансирования обучения"] == "Платное обучение"
    assert cells["Форма получения образования на момент прекращения образовательных "
                 "отношений"] == "в образовательной организации"
    assert cells["Гражданство получателя (код страны по ОКСМ)"] == "156"
    for header in ORIGINAL_COLUMNS + ("Номер документа для изменения",):
        assert cells[header] == "", header


def test_a_replacement_names_its_original_and_the_original_is_marked_exchanged():
    original, replacement = reissued_pair()
    header, original_row, replacement_row = list(frdo_rows([original, replacement]))
    old = dict(zip(header, original_row, strict=True))
    new = dict(zip(header, replacement_row, strict=True))

    assert old["Статус документа"] == "Оригинал"
    assert old["Подтверждение обмена"] == "Обмен по причине наличия недостоверной информации"
    assert old["Подтверждение уничтожения"] == "Нет"
    assert old["Номер документа"] == "IE-2025-0041"
    assert old["Дата выдачи документа"] == date(2025, 12, 26)
    for column in ORIGINAL_COLUMNS:
        assert old[column] == "", column

    assert new["Статус документа"] == "Дубликат"
    assert new["Подтверждение обмена"] == "Нет"
    assert new["Подтверждение уничтожения"] == "Нет"
    assert new["Номер документа"] == "IE-2026-0007"
    assert new["Регистрационный номер"] == "IE-2026-0007"
    assert new["Дата выдачи документа"] == date(2026, 4, 2)
    assert new["Наименование документа об образовании (оригинала)"] == (
        "Удостоверение о повышении квалификации")
    assert new["Серия (оригинала)"] == "Нет"
    assert new["Номер (оригинала)"] == "IE-2025-0041"
    assert new["Регистрационный N (оригинала)"] == "IE-2025-0041"
    assert new["Дата выдачи (оригинала)"] == date(2025, 12, 26)
    assert new["Фамилия получателя (оригинала)"] == "Оуян"
    assert new["Имя получателя (оригинала)"] == "Нанa"  # as the original printed it
    assert new["Имя получателя"] == "Нана"
    assert new["Отчество получателя (оригинала)"] == ""
    assert new["Номер документа для изменения"] == ""


def test_a_revoked_certificate_is_marked_destroyed():
    revoked = certificate(status=CertificateStatus.REVOKED)
    revoked.revoked_at = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
    revoked.revoked_reason = "Выдано ошибочно"
    cells = row_of(revoked)
    assert cells["Статус документа"] == "Оригинал"
    assert cells["Подтверждение уничтожения"] == "Да"
    assert cells["Подтверждение обмена"] == "Нет"
    assert cells["Подтверждение утраты"] == "Нет"
    assert cells["Номер документа"] == "IE-2026-0003"


def test_an_old_certificate_without_register_data_leaves_those_cells_empty():
    snapshot = {
        "registry_number": "IE-2025-0001",
        "program_title_ru": "Инвестиционная экосистема региона",
        "hours": 36,
        "starts_on": "2025-09-01",
        "ends_on": "2025-09-26",
        "issued_on": "2025-09-29",
        "name_ru": "Ли Вэй",
    }  # before study_form, delivery and layout_version
    old = certificate("IE-2025-0001", register={}, snapshot=snapshot)
    cells = row_of(old)
    for header in REGISTER_COLUMNS:
        assert cells[header] == "", header
    assert cells["Форма обучения"] == ""
    assert cells["Номер документа"] == "IE-2025-0001"
    assert cells["Дата выдачи документа"] == date(2025, 9, 29)
    assert cells["Срок обучения, часов (для документа о квалификации)"] == 36
    assert cells["Статус документа"] == "Оригинал"
    # a re-issue of it: the original's names are unknown too
    replacement = certificate("IE-2026-0002", replaces=old)
    new = row_of(replacement)
    assert new["Номер (оригинала)"] == "IE-2025-0001"
    assert new["Фамилия получателя (оригинала)"] == ""
    assert new["Имя получателя (оригинала)"] == ""
    assert frdo_xlsx([old, replacement])  # writes without an exception


@pytest.mark.parametrize(("alpha_2", "oksm"), [
    ("CN", "156"), ("cn", "156"), ("RU", "643"), ("KZ", "398"), ("AF", "004"), ("XX", ""), ("", ""),
])
def test_citizenship_is_the_oksm_code(alpha_2, oksm):
    cells = row_of(certificate(register=register_data(citizenship=alpha_2)))
    assert cells["Гражданство получателя (код страны по ОКСМ)"] == oksm


@pytest.mark.parametrize(("study_form", "word"), [
    ("full_time", "Очная"), ("part_time", "Очно-заочная (вечерняя)"), ("extramural", "Заочная"),
    ("", ""),
])
def test_study_form(study_form, word):
    fake = certificate()
    fake.snapshot["study_form"] = study_form
    assert row_of(fake)["Форма обучения"] == word


@pytest.mark.parametrize("funding", ["self_funded", "home_university", "moe_china", "other"])
def test_every_funding_is_paid(funding):
    cells = row_of(certificate(register=register_data(funding=funding)))
    assert cells["Источник финансирования обучения"] == "Платное обучение"


def test_sex_and_education_level():
    cells = row_of(certificate(register=register_data(
        sex="male", education_level="secondary_vocational", snils="123-456-789 01")))
    assert cells["Пол получателя"] == "Муж"
    assert cells["Уровень образования ВО/СПО"] == "Среднее профессиональное образование"
    assert cells["СНИЛС"] == "123-456-789 01"


def test_text_starting_a_formula_is_neutralised():
    fake = certificate(register=register_data(
        family_name_ru="=HYPERLINK(\"http://evil.test\")", given_name_ru="+7 999"))
    cells = row_of(fake)
    assert cells["Фамилия получателя"] == "'=HYPERLINK(\"http://evil.test\")"
    assert cells["Имя получателя"] == "'+7 999"

    sheet = load_workbook(io.BytesIO(frdo_xlsx([fake])))["Шаблон"]
    header = [cell.value for cell in sheet[1]]
    surname = sheet.cell(row=2, column=header.index("Фамилия получателя") + 1)
    assert surname.data_type == "s"
    assert surname.value == "'=HYPERLINK(\"http://evil.test\")"


def test_a_control_character_becomes_the_replacement_character():
    """As in every export (it used to vanish from this one): U+FFFD, in the rows and the file."""
    fake = certificate(register=register_data(family_name_ru="Оу\x00ян", given_name_ru="На\x1bна"))
    assert row_of(fake)["Фамилия получателя"] == "Оу\ufffdян"

    sheet = load_workbook(io.BytesIO(frdo_xlsx([fake])))["Шаблон"]
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("Фамилия получателя") + 1).value == "Оу\ufffdян"
    assert sheet.cell(row=2, column=header.index("Имя получателя") + 1).value == "На\ufffdна"


def test_the_workbook_read_back_column_by_column():
    original, replacement = reissued_pair()
    revoked = certificate("IE-2026-0009", status=CertificateStatus.REVOKED)
    old = certificate("IE-2025-0001", register={})
    certificates = [original, replacement, revoked, old]
    expected = list(frdo_rows(certificates))

    workbook = load_workbook(io.BytesIO(frdo_xlsx(certificates)))
    assert workbook.sheetnames == ["Шаблон"]
    sheet = workbook["Шаблон"]
    assert [cell.value for cell in sheet[1]] == documented_headers()
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.max_row == 1 + len(certificates)

    for row_number, values in enumerate(expected[1:], start=2):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_number, column=column)
            where = f"{cell.coordinate} {expected[0][column - 1]}"
            if value == "":
                assert cell.value is None, where
            elif isinstance(value, str):
                assert cell.data_type == "s", where
                assert cell.value == value, where
            elif isinstance(value, date):
                assert cell.is_date, where
                assert cell.value.date() == value, where
                assert cell.number_format == "DD.MM.YYYY", where
            else:
                assert cell.data_type == "n", where
                assert cell.value == value, where
    citizenship = sheet.cell(row=2, column=expected[0].index(
        "Гражданство получателя (код страны по ОКСМ)") + 1)
    assert citizenship.data_type == "s"
    assert citizenship.value == "156"
