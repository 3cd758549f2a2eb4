"""The export to ФИС ФРДО: certificates as rows of the register's template for ДПО (docs/frdo.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pycountry
from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core import spreadsheets
from course_portal.core.spreadsheets import cell_value
from course_portal.extensions import db

# The template's words stay Russian and verbatim: the register matches them to its reference
# lists (the hidden sheet «Проверки» of the template), so they are never translated.

#: the template's data sheet; its other sheet, «Проверки», only holds the reference lists
SHEET_TITLE = "Шаблон"
#: how the template's date cells show a date (they hold real dates, not text)
DATE_FORMAT = "DD.MM.YYYY"

DOCUMENT_KIND = "Удостоверение о повышении квалификации"
PROGRAMME_KIND = "Повышение квалификации"
ORIGINAL = "Оригинал"
DUPLICATE = "Дубликат"
YES = "Да"
NO = "Нет"
#: «Серия документа» of a document without a printed blank series
NO_SERIES = "Нет"
#: «Подтверждение обмена» of a certificate replaced by a corrected re-issue
EXCHANGED_FOR_ERRORS = "Обмен по причине наличия недостоверной информации"
#: «Форма получения образования ...»: every programme is studied at the university
IN_ORGANISATION = "в образовательной организации"
#: «Источник финансирования обучения» for money that is not a Russian budget's
PAID = "Платное обучение"

STUDY_FORMS = {
    "full_time": "Очная",
    "part_time": "Очно-заочная (вечерняя)",
    "extramural": "Заочная",
}
EDUCATION_LEVELS = {
    "higher": "Высшее образование",
    "secondary_vocational": "Среднее профессиональное образование",
}
SEXES = {"male": "Муж", "female": "Жен"}
FUNDING = dict.fromkeys(("self_funded", "home_university", "moe_china", "other"), PAID)


# --- reading a certificate ----------------------------------------------------------------------


def _snapshot(certificate: Certificate, key: str):
    return (certificate.snapshot or {}).get(key, "")


def _register(certificate: Certificate, key: str) -> str:
    return (certificate.register_data or {}).get(key) or ""


def _date(value) -> date | str:
    """An ISO date as a date; a missing one as an empty cell."""
    return date.fromisoformat(value) if value else ""


def _year(certificate: Certificate, key: str) -> int | str:
    value = _snapshot(certificate, key)
    return date.fromisoformat(value).year if value else ""


def _hours(certificate: Certificate) -> int | str:
    hours = _snapshot(certificate, "hours")
    return hours if isinstance(hours, int) and not isinstance(hours, bool) else ""


def _citizenship(certificate: Certificate) -> str:
    """ISO 3166 alpha-2 (CN) as the ОКСМ code the template lists (156); unknown: empty."""
    code = _register(certificate, "citizenship").strip().upper()
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return country.numeric if country is not None else ""


def _mapped(mapping: dict[str, str], key: str, *, snapshot: bool = False):
    """A reader giving the template's word for a stored code; an unknown code: empty."""
    def read(certificate: Certificate) -> str:
        code = _snapshot(certificate, key) if snapshot else _register(certificate, key)
        return mapping.get(code, "")
    return read


def _status(certificate: Certificate) -> str:
    """A re-issue is the template's «Дубликат» of the certificate it replaces."""
    return DUPLICATE if certificate.replaces is not None else ORIGINAL


def _exchange(certificate: Certificate) -> str:
    return EXCHANGED_FOR_ERRORS if certificate.status == CertificateStatus.SUPERSEDED else NO


def _destroyed(certificate: Certificate) -> str:
    return YES if certificate.status == CertificateStatus.REVOKED else NO


def _of_original(read: Callable[[Certificate], object]) -> Callable[[Certificate], object]:
    """The same reader applied to the certificate a re-issue replaces; empty for an original."""
    def read_original(certificate: Certificate) -> object:
        return read(certificate.replaces) if certificate.replaces is not None else ""
    return read_original


def _issued_on(certificate: Certificate) -> date | str:
    return _date(_snapshot(certificate, "issued_on"))


def _empty(certificate: Certificate) -> str:
    return ""


#: the template's columns in its order (docs/frdo.md): header and how to read the cell
FRDO_COLUMNS: tuple[tuple[str, Callable[[Certificate], object]], ...] = (
    ("Вид документа", lambda c: DOCUMENT_KIND),
    ("Статус документа", _status),
    ("Подтверждение утраты", lambda c: NO),
    ("Подтверждение обмена", _exchange),
    ("Подтверждение уничтожения", _destroyed),
    ("Серия документа", lambda c: NO_SERIES),
    ("Номер документа", lambda c: c.registry_number),
    ("Дата выдачи документа", _issued_on),
    ("Регистрационный номер", lambda c: c.registry_number),
    ("Дополнительная профессиональная программа (повышение квалификации/ профессиональная "
     "переподготовка)", lambda c: PROGRAMME_KIND),
    ("Наименование дополнительной профессиональной программы",
     lambda c: _snapshot(c, "program_title_ru")),
    ("Наименование области профессиональной деятельности", _empty),
    ("Укрупненные группы специальностей", _empty),
    ("Наименование квалификации, профессии, специальности", _empty),
    ("Уровень образования ВО/СПО", _mapped(EDUCATION_LEVELS, "education_level")),
    ("Фамилия указанная в дипломе о ВО или СПО", lambda c: _register(c, "diploma_surname")),
    ("Серия документа о ВО/СПО", _empty),
    ("Номер документа о ВО/СПО", _empty),
    ("Год начала обучения (для документа о квалификации)", lambda c: _year(c, "starts_on")),
    ("Год окончания обучения (для документа о квалификации)", lambda c: _year(c, "ends_on")),
    ("Срок обучения, часов (для документа о квалификации)", _hours),
    ("Фамилия получателя", lambda c: _register(c, "family_name_ru")),
    ("Имя получателя", lambda c: _register(c, "given_name_ru")),
    ("Отчество получателя", lambda c: _register(c, "patronymic_ru")),
    ("Дата рождения получателя", lambda c: _date(_register(c, "born_on"))),
    ("Пол получателя", _mapped(SEXES, "sex")),
    ("СНИЛС", lambda c: _register(c, "snils")),
    ("Форма обучения", _mapped(STUDY_FORMS, "study_form", snapshot=True)),
    ("Источник финансирования обучения", _mapped(FUNDING, "funding")),
    ("Форма получения образования на момент прекращения образовательных отношений",
     lambda c: IN_ORGANISATION),
    ("Гражданство получателя (код страны по ОКСМ)", _citizenship),
    ("Наименование документа об образовании (оригинала)", _of_original(lambda c: DOCUMENT_KIND)),
    ("Серия (оригинала)", _of_original(lambda c: NO_SERIES)),
    ("Номер (оригинала)", _of_original(lambda c: c.registry_number)),
    ("Регистрационный N (оригинала)", _of_original(lambda c: c.registry_number)),
    ("Дата выдачи (оригинала)", _of_original(_issued_on)),
    ("Фамилия получателя (оригинала)", _of_original(lambda c: _register(c, "family_name_ru"))),
    ("Имя получателя (оригинала)", _of_original(lambda c: _register(c, "given_name_ru"))),
    ("Отчество получателя (оригинала)", _of_original(lambda c: _register(c, "patronymic_ru"))),
    ("Номер документа для изменения", _empty),
)


# --- the export ---------------------------------------------------------------------------------


def frdo_rows(certificates) -> Iterator[list]:
    """The template's header, then one row per certificate, text neutralised against formulas."""
    yield [header for header, _ in FRDO_COLUMNS]
    for certificate in certificates:
        yield [cell_value(read(certificate)) for _, read in FRDO_COLUMNS]


def frdo_xlsx(certificates) -> bytes:
    """The rows as the template's sheet «Шаблон»: text typed as text, dates as real dates,
    blanks as no value (the template allows them)."""
    return spreadsheets.xlsx_bytes(SHEET_TITLE, frdo_rows(certificates), date_format=DATE_FORMAT)


def frdo_certificates(start: date, end: date) -> list[Certificate]:
    """Certificates issued, revoked or superseded from start to end (the portal's dates)."""
    zone = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)

    def within(moment: datetime | None) -> bool:
        return moment is not None and since <= moment < until

    margin = timedelta(days=1)  # issued_on is the portal's date at issued_at, give or take
    query = (
        select(Certificate)
        .where(or_(
            and_(Certificate.issued_at >= since - margin, Certificate.issued_at < until + margin),
            and_(Certificate.revoked_at >= since, Certificate.revoked_at < until),
            and_(Certificate.superseded_at >= since, Certificate.superseded_at < until),
        ))
        .options(selectinload(Certificate.replaces), selectinload(Certificate.replaced_by))
        .order_by(Certificate.program_id, Certificate.year, Certificate.sequence)
    )
    chosen = []
    for certificate in db.session.scalars(query):
        issued_on = _issued_on(certificate)
        if ((isinstance(issued_on, date) and start <= issued_on <= end) or within(certificate.revoked_at)
                or within(certificate.superseded_at)):
            chosen.append(certificate)
    return chosen


def record_export(actor, start: date, end: date, rows: int) -> None:
    """The register's file left the portal: who took it, for which period; the caller commits."""
    from course_portal.core.audit import record

    record("frdo.exported", actor=actor, start=start.isoformat(), end=end.isoformat(), rows=rows)
