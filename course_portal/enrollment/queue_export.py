"""Exports of the filtered review queue, every page, as CSV and XLSX, with formulas neutralised."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from course_portal.accounts.forms import academic_title_choices
from course_portal.core import spreadsheets
from course_portal.core.spreadsheets import cell_value
from course_portal.core.timezones import ZonedHeader
from course_portal.enrollment.labels import FUNDING_NAMES, status_name
from course_portal.enrollment.models import Application
from course_portal.enrollment.queue import QueueFilters, filtered, ordering, row_loading
from course_portal.extensions import db


def _profile_value(name: str):
    def get(application: Application):
        """The profile's field, or "" for a teacher without a profile."""
        profile = application.teacher.profile
        return getattr(profile, name) if profile is not None else ""
    return get


def _partner(application: Application) -> str:
    profile = application.teacher.profile
    partner = profile.partner_university if profile is not None else None
    return partner.t("name") if partner is not None else ""


def _academic_title(application: Application) -> str:
    profile = application.teacher.profile
    if profile is None:
        return ""
    return str(dict(academic_title_choices()).get(profile.academic_title.value, ""))


def _funding_source(application: Application) -> str:
    source = application.funding_source
    return str(FUNDING_NAMES[source]) if source is not None else ""


#: the export's columns: header and how to read the cell from an application
EXPORT_COLUMNS = (
    (_l("Application"), lambda a: a.id),
    (_l("Status"), lambda a: str(status_name(a.status))),
    (ZonedHeader(_l("Submitted at (%(zone)s)")), lambda a: a.submitted_at),
    (_l("Name in Chinese characters"), _profile_value("name_zh")),
    (_l("Family name (Latin)"), _profile_value("family_name_latin")),
    (_l("Given name (Latin)"), _profile_value("given_name_latin")),
    (_l("Name in Russian"), _profile_value("name_ru")),
    (_l("Email address"), lambda a: a.teacher.email),
    (_l("Partner university"), _partner),
    (_l("Department"), _profile_value("department")),
    (_l("Position"), _profile_value("position")),
    (_l("Academic title"), _academic_title),
    (_l("Phone"), _profile_value("phone")),
    (_l("WeChat ID"), _profile_value("wechat_id")),
    (_l("Program code"), lambda a: a.intake.program.code),
    (_l("Intake"), lambda a: a.intake.t("title")),
    (_l("Funding source"), _funding_source),
    (_l("Funding: other"), lambda a: a.funding_other),
    (_l("Motivation"), lambda a: a.motivation),
)


def export_rows(filters: QueueFilters, language: str = "en") -> Iterator[list]:
    """The header, then one row per application of the filtered queue (every page), neutralised."""
    yield [str(header) for header, _ in EXPORT_COLUMNS]
    stmt = (
        filtered(select(Application), filters)
        .options(*row_loading(motivation=True))
        .order_by(*ordering(filters, language))
        .execution_options(yield_per=500)
    )
    for application in db.session.scalars(stmt):
        yield [cell_value(read(application)) for _, read in EXPORT_COLUMNS]


def csv_chunks(filters: QueueFilters, language: str = "en") -> Iterator[str]:
    """The export as CSV text in chunks, starting with a BOM so that Excel reads UTF-8."""
    return spreadsheets.csv_chunks(export_rows(filters, language))


def xlsx_bytes(filters: QueueFilters, language: str = "en") -> bytes:
    """The export as an XLSX workbook of one sheet, built in memory."""
    return spreadsheets.xlsx_bytes("Applications", export_rows(filters, language))
