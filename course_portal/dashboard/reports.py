"""The application-status and per-partner reports, and their CSV, XLSX and PDF files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from course_portal.accounts.models import TeacherProfile, User
from course_portal.catalog.models import Intake, PartnerUniversity, Program
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core import spreadsheets
from course_portal.enrollment.labels import status_name
from course_portal.enrollment.models import Application
from course_portal.enrollment.queue import REVIEWABLE
from course_portal.extensions import db
from course_portal.progress import services as progress


@dataclass
class Report:
    """A table with a title: what the page, the CSV, the XLSX and the PDF all show."""

    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    #: a last row of totals, or None
    totals: list | None = None
    generated_at: datetime | None = None

    def all_rows(self) -> list[list]:
        """The rows, then the totals when there are some."""
        return [*self.rows, *([self.totals] if self.totals else [])]


def status_report() -> Report:
    """Counts of applications by intake × status, in one aggregate query."""
    counts: dict[int, dict] = {}
    for intake_id, status, count in db.session.execute(
        select(Application.intake_id, Application.status, func.count(Application.id))
        .where(Application.status.in_(list(REVIEWABLE)))
        .group_by(Application.intake_id, Application.status)
    ):
        counts.setdefault(intake_id, {})[status] = count
    intakes = db.session.scalars(
        select(Intake).join(Program, Program.id == Intake.program_id)
        .options(contains_eager(Intake.program))
        .order_by(Program.code, Intake.starts_on, Intake.id)
    )
    report = Report(
        title=_("Application-status report"),
        headers=[_("Program code"), _("Intake"), *[str(status_name(s)) for s in REVIEWABLE],
                 _("Total")],
    )
    totals = [0] * (len(REVIEWABLE) + 1)
    for intake in intakes:
        by_status = counts.get(intake.id, {})
        numbers = [by_status.get(s, 0) for s in REVIEWABLE]
        numbers.append(sum(numbers))
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
        report.rows.append([intake.program.code, intake.t("title"), *numbers])
    report.totals = [_("Total"), "", *totals]
    return report


def partner_report(partner: PartnerUniversity) -> Report:
    """One partner university's teachers across intakes: status, hours and certificate number."""
    applications = list(db.session.scalars(
        select(Application)
        .join(Intake, Intake.id == Application.intake_id)
        .join(Program, Program.id == Intake.program_id)
        .join(User, User.id == Application.teacher_id)
        .join(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(TeacherProfile.partner_university_id == partner.id,
               Application.status.in_(list(REVIEWABLE)))
        .options(contains_eager(Application.intake).contains_eager(Intake.program),
                 contains_eager(Application.teacher).contains_eager(User.profile))
        .order_by(Intake.starts_on.desc(), Intake.id, TeacherProfile.family_name_latin,
                  TeacherProfile.given_name_latin, Application.id)
    ).unique())
    numbers = dict(db.session.execute(
        select(Certificate.application_id, Certificate.registry_number).where(
            Certificate.application_id.in_([a.id for a in applications]),
            Certificate.status == CertificateStatus.ISSUED)
    ).all()) if applications else {}
    # the ledgers, one batch per intake: the queries grow with intakes, not with teachers
    ledgers: dict[int, progress.Ledger] = {}
    by_intake: dict[int, list[Application]] = {}
    for application in applications:
        by_intake.setdefault(application.intake_id, []).append(application)
    for group in by_intake.values():
        data = progress.load_intake_data(group[0].intake, [a.id for a in group])
        for application in group:
            ledgers[application.id] = data.ledger(application.id)
    report = Report(
        title=_("Partner report: %(partner)s", partner=partner.t("name")),
        headers=[_("Name in Chinese characters"), _("Name in Latin letters"), _("Email address"),
                 _("Program code"), _("Intake"), _("Status"), _("Hours credited"),
                 _("Hours in total"), _("Certificate number")],
    )
    for application in applications:
        profile = application.teacher.profile
        ledger = ledgers[application.id]
        report.rows.append([
            profile.name_zh if profile else application.teacher.name,
            profile.name_latin if profile else "", application.teacher.email,
            application.intake.program.code, application.intake.t("title"),
            str(status_name(application.status)), ledger.hours_credited, ledger.hours_total,
            numbers.get(application.id, ""),
        ])
    return report


# --- files ----------------------------------------------------------------------------------


def _cells(report: Report):
    """The header and every row; the spreadsheet writers make each text cell safe."""
    yield [str(h) for h in report.headers]
    yield from report.all_rows()


def report_csv(report: Report) -> str:
    """The report as CSV text with a BOM, so that Excel reads UTF-8."""
    return spreadsheets.csv_text(_cells(report))


def report_xlsx(report: Report, sheet_title: str = "Report") -> bytes:
    """The report as an XLSX workbook whose text cells can never become formulas."""
    return spreadsheets.xlsx_bytes(sheet_title, _cells(report))
