"""The dashboard's figures, the intake overview and bulk email, in a fixed number of queries."""

# Every figure is one aggregate query (GROUP BY). Without a period they read the tallies the
# database keeps (dashboard.tallies), whose size depends on intakes and partner universities,
# not on applications, so the page costs the same however large the registry grows; a period
# (submitted from/to) needs the applications' own dates and counts them. Only
# queue_bulk_email() writes: rows in the outbox.

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import CompoundSelect, Select, String, cast, func, literal, select
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import TeacherProfile, User
from course_portal.catalog.models import Intake
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core.outbox import queue_email
from course_portal.dashboard.tallies import ApplicationTally, PartnerTally
from course_portal.enrollment.filter_lists import Catalog, IntakeRow, PartnerRow, read_catalog
from course_portal.enrollment.models import Application, ApplicationStatus, FundingSource
from course_portal.enrollment.queue import REVIEWABLE
from course_portal.extensions import db
from course_portal.progress import services as progress

S = ApplicationStatus
#: the statuses of teachers who take (or took) the course
TAKING = (S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED)
#: what a row of tallied_figures()' statement counts: statuses and funding, or a university
STATUS_ROW, PARTNER_ROW = "status", "partner"
#: the seats chart shows this many intakes, newest first
SEAT_INTAKES = 30
#: an intake's overview lists upcoming dates this many days ahead
UPCOMING_DAYS = 60


@dataclass(frozen=True)
class DashboardFilters:
    """What the coordinator narrowed the dashboard to; None is "any"."""

    program_id: int | None = None
    intake_id: int | None = None
    partner_id: int | None = None
    #: a FundingSource value
    funding: str | None = None
    #: submitted on or after this day, on or before that one (the portal's time zone)
    submitted_from: date | None = None
    submitted_to: date | None = None

    def queue_args(self, **extra: Any) -> dict:
        """The review queue's query arguments for these filters (the queue has no period)."""
        args = {"program": self.program_id, "intake": self.intake_id,
                "partner": self.partner_id, "funding": self.funding, **extra}
        return {key: value for key, value in args.items() if value not in (None, "")}

    def query_args(self) -> dict:
        """The dashboard's own query arguments for these filters."""
        args = {"program": self.program_id, "intake": self.intake_id,
                "partner": self.partner_id, "funding": self.funding,
                "submitted_from": self.submitted_from and self.submitted_from.isoformat(),
                "submitted_to": self.submitted_to and self.submitted_to.isoformat()}
        return {key: value for key, value in args.items() if value not in (None, "")}


def _day_start(day: date) -> datetime:
    """Midnight of the day in the portal's time zone, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(current_app.config["PORTAL_TIMEZONE"]))


def _applications(stmt: Select, filters: DashboardFilters,
                  statuses: Iterable[ApplicationStatus] = REVIEWABLE,
                  with_profile: bool = False) -> Select:
    """The statement over applications, narrowed to the filters.

    The intake and the teacher's profile are joined only when a filter (or, with_profile, the
    statement) needs them: on 20,000 applications each join doubled an aggregate's time.
    """
    stmt = stmt.select_from(Application).where(Application.status.in_(list(statuses)))
    if filters.program_id is not None:
        stmt = (stmt.join(Intake, Intake.id == Application.intake_id)
                .where(Intake.program_id == filters.program_id))
    if with_profile or filters.partner_id is not None:
        stmt = stmt.outerjoin(TeacherProfile, TeacherProfile.user_id == Application.teacher_id)
    if filters.intake_id is not None:
        stmt = stmt.where(Application.intake_id == filters.intake_id)
    if filters.partner_id is not None:
        stmt = stmt.where(TeacherProfile.partner_university_id == filters.partner_id)
    if filters.funding:
        try:
            stmt = stmt.where(Application.funding_source == FundingSource(filters.funding))
        except ValueError:
            pass  # an unknown source narrows nothing, as in the queue
    if filters.submitted_from is not None:
        stmt = stmt.where(Application.submitted_at >= _day_start(filters.submitted_from))
    if filters.submitted_to is not None:
        stmt = stmt.where(
            Application.submitted_at < _day_start(filters.submitted_to + timedelta(days=1)))
    return stmt


@dataclass
class Bar:
    """One bar of a chart: its label, its value, and where its number leads."""

    label: str
    value: int
    url: str = ""
    #: a second number shown beside the value ("of 20 seats")
    of: int | None = None
    key: str = ""


@dataclass
class Figures:
    """Every figure of the dashboard, as plain numbers."""

    by_status: dict[str, int] = field(default_factory=dict)
    #: (intake, seats taken) for the intakes in view, newest first
    seats: list[tuple[IntakeRow, int]] = field(default_factory=list)
    #: (partner or None, distinct teachers), most teachers first
    by_partner: list[tuple[PartnerRow | None, int]] = field(default_factory=list)
    by_funding: dict[str | None, int] = field(default_factory=dict)
    completed: int = 0
    not_completed: int = 0
    certificates: int = 0

    @property
    def applications(self) -> int:
        """Every application in view (drafts are never counted)."""
        return sum(self.by_status.values())

    @property
    def finished(self) -> int:
        """Teachers whose intake closed: completed or not."""
        return self.completed + self.not_completed

    @property
    def completion_percent(self) -> int | None:
        """Completed of finished, in whole percent; None before any intake closed."""
        return self.completed * 100 // self.finished if self.finished else None


def figures(filters: DashboardFilters, catalog: Catalog | None = None) -> Figures:
    """The dashboard's figures under the filters, in a few aggregate queries.

    catalog, which the page's filters read already, names the intakes and partner universities
    of the charts; without it they are read here.
    """
    if filters.submitted_from is None and filters.submitted_to is None:
        return tallied_figures(filters, catalog)
    return counted_figures(filters, catalog)


def _tallies(stmt: Select, filters: DashboardFilters) -> Select:
    """The statement over application_tallies, narrowed to the filters (no period)."""
    stmt = stmt.select_from(ApplicationTally).where(
        ApplicationTally.status.in_([s.value for s in REVIEWABLE]))
    if filters.program_id is not None:
        stmt = (stmt.join(Intake, Intake.id == ApplicationTally.intake_id)
                .where(Intake.program_id == filters.program_id))
    if filters.intake_id is not None:
        stmt = stmt.where(ApplicationTally.intake_id == filters.intake_id)
    if filters.partner_id is not None:
        stmt = stmt.where(ApplicationTally.partner_key == filters.partner_id)
    if filters.funding:
        try:
            stmt = stmt.where(ApplicationTally.funding_key == FundingSource(filters.funding).value)
        except ValueError:
            pass  # an unknown source narrows nothing, as in the queue
    return stmt


def tallied_figures(filters: DashboardFilters, catalog: Catalog | None = None) -> Figures:
    """figures() from the tallies: the same numbers as counted_figures() without a period."""
    result = Figures()
    unfiltered = filters == DashboardFilters()
    # statuses and funding sources from one pass over the tallies (at most a few dozen groups):
    # the table holds every intake's and university's rows, and without VACUUM it also holds
    # their dead versions, so each pass over it costs about a millisecond
    counts = _tallies(
        select(literal(STATUS_ROW), ApplicationTally.status, ApplicationTally.funding_key,
               func.sum(ApplicationTally.applications), func.sum(ApplicationTally.certified)),
        filters).group_by(ApplicationTally.status, ApplicationTally.funding_key)
    stmt: Select | CompoundSelect = counts
    if unfiltered:  # and the universities' teachers in the same statement: one trip less
        stmt = counts.union_all(
            select(literal(PARTNER_ROW), literal(""), cast(PartnerTally.partner_key, String),
                   PartnerTally.teachers, literal(0))
            .where(PartnerTally.teachers > 0))
    partner_rows = []
    for kind, status, key, count, certified in db.session.execute(stmt):
        if kind == PARTNER_ROW:
            partner_rows.append((int(key) or None, int(count)))
            continue
        result.certificates += int(certified or 0)
        if count:  # a group whose applications all left it keeps its row, at 0
            result.by_status[status] = result.by_status.get(status, 0) + int(count)
            funding = key or None
            result.by_funding[funding] = result.by_funding.get(funding, 0) + int(count)
    result.completed = result.by_status.get(S.COMPLETED.value, 0)
    result.not_completed = result.by_status.get(S.NOT_COMPLETED.value, 0)
    if not unfiltered:
        # distinct teachers under a filter cannot be added up from the tallies; the filter
        # bounds what is read (one intake, programme, university or funding source)
        partner_rows = _teachers_by_partner(filters)
    catalog = catalog or read_catalog()
    result.by_partner = _partner_rows(partner_rows, catalog)
    result.seats = _seats(filters, catalog)
    return result


def _teachers_by_partner(filters: DashboardFilters) -> list[tuple[int | None, int]]:
    """Each teacher once, then counted by university: cheaper than count(DISTINCT) per group."""
    teachers = _applications(select(Application.teacher_id), filters).distinct().subquery()
    rows = db.session.execute(
        select(TeacherProfile.partner_university_id, func.count())
        .select_from(teachers)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == teachers.c.teacher_id)
        .group_by(TeacherProfile.partner_university_id)
    )
    return [(partner_id, count) for partner_id, count in rows]


def _partner_rows(partner_rows: Iterable[tuple[int | None, int]], catalog: Catalog
                  ) -> list[tuple[PartnerRow | None, int]]:
    """(partner id, teachers) as (partner, teachers), most teachers first."""
    partners = {partner.id: partner for partner in catalog.partners}
    return sorted(
        ((partners.get(pid) if pid is not None else None, count) for pid, count in partner_rows),
        key=lambda row: (-row[1], row[0].name_en if row[0] else "\uffff"),
    )


def _seats(filters: DashboardFilters, catalog: Catalog) -> list[tuple[IntakeRow, int]]:
    """The intake's own seat counter, for the intakes the program/intake filters leave."""
    return [
        (intake, intake.seats_taken) for intake in catalog.intakes  # newest first
        if (filters.program_id is None or intake.program_id == filters.program_id)
        and (filters.intake_id is None or intake.id == filters.intake_id)
    ][:SEAT_INTAKES]


def counted_figures(filters: DashboardFilters, catalog: Catalog | None = None) -> Figures:
    """figures() counted from the applications themselves: for a period, and as the truth
    the tallies are checked against."""
    result = Figures()
    rows = db.session.execute(
        _applications(select(Application.status, func.count(Application.id)), filters)
        .group_by(Application.status)
    )
    result.by_status = {S(status).value: count for status, count in rows}
    result.completed = result.by_status.get(S.COMPLETED.value, 0)
    result.not_completed = result.by_status.get(S.NOT_COMPLETED.value, 0)

    catalog = catalog or read_catalog()
    result.by_partner = _partner_rows(_teachers_by_partner(filters), catalog)

    rows = db.session.execute(
        _applications(select(Application.funding_source, func.count(Application.id)), filters)
        .group_by(Application.funding_source)
    )
    result.by_funding = {(FundingSource(s).value if s else None): count for s, count in rows}

    result.certificates = db.session.scalar(
        _applications(select(func.count(Certificate.id)), filters)
        .join(Certificate, Certificate.application_id == Application.id)
        .where(Certificate.status == CertificateStatus.ISSUED)
    ) or 0

    result.seats = _seats(filters, catalog)
    return result


# --- the intake overview --------------------------------------------------------------------


@dataclass
class TeacherRow:
    """One teacher of an intake: hours credited of the total and where they stand today."""

    application: Application
    ledger: progress.Ledger
    standing: progress.Standing

    @property
    def at_risk(self) -> bool:
        """True when attendance of the modules past is behind the rule, or something failed."""
        return not self.standing.on_track

    @property
    def percent(self) -> int:
        """Hours credited in percent of the total."""
        total = self.ledger.hours_total
        return self.ledger.hours_credited * 100 // total if total else 0


@dataclass
class Overview:
    """An intake at a glance."""

    intake: Intake
    rows: list[TeacherRow]
    upcoming: list[tuple[date, str, object]]
    rules: object

    @property
    def at_risk(self) -> list[TeacherRow]:
        """The teachers behind the rule."""
        return [row for row in self.rows if row.at_risk]


def _dated(ledger: progress.Ledger, intake: Intake) -> progress.Ledger:
    """The ledger with the intake's own dates on modules that have none scheduled."""
    # an unscheduled module is taught at the latest by the intake's end: once the intake is
    # over, its attendance counts as past, so a teacher who missed it shows as at risk
    return replace(ledger, lines=[
        line if line.ends_on is not None
        else line._replace(starts_on=intake.starts_on, ends_on=intake.ends_on)
        for line in ledger.lines
    ])


def intake_overview(intake: Intake, today: date) -> Overview:
    """Every enrolled teacher's ledger and standing, and the dates ahead, in a few queries."""
    applications = progress.roster_applications(intake, TAKING)
    data = progress.load_intake_data(intake, [a.id for a in applications])
    rows = []
    for application in applications:
        ledger = _dated(data.ledger(application.id), intake)
        rows.append(TeacherRow(application, ledger, progress.standing(ledger, today)))
    horizon = today + timedelta(days=UPCOMING_DAYS)
    upcoming: list[tuple[date, str, object]] = []
    modules = {m.id: m for m in data.modules}
    for module_id, scheduled in data.schedule.items():
        module = modules.get(module_id)
        if module is None:
            continue
        if today <= scheduled.starts_on <= horizon:
            upcoming.append((scheduled.starts_on, "module_starts", module))
        if today <= scheduled.ends_on <= horizon:
            upcoming.append((scheduled.ends_on, "module_ends", module))
    for day, kind in ((intake.applications_close_on, "applications_close"),
                      (intake.starts_on, "intake_starts"), (intake.ends_on, "intake_ends")):
        if today <= day <= horizon:
            upcoming.append((day, kind, None))
    upcoming.sort(key=lambda item: (item[0], item[1]))
    return Overview(intake=intake, rows=rows, upcoming=upcoming, rules=data.rules)


def user_ids(filters: DashboardFilters,
             statuses: Iterable[ApplicationStatus] = REVIEWABLE) -> Select:
    """A statement of the distinct teachers' ids under the filters."""
    return _applications(select(Application.teacher_id), filters, statuses)


def recipients(filters: DashboardFilters, statuses: Iterable[ApplicationStatus]
               ) -> list[User]:
    """The teachers the filters and statuses leave, each once, with their profile, by name."""
    return list(db.session.scalars(
        select(User)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(User.id.in_(user_ids(filters, statuses)), User.is_enabled.is_(True))
        .options(selectinload(User.profile))
        .order_by(TeacherProfile.family_name_latin, TeacherProfile.given_name_latin, User.id)
    ))


# --- bulk email -----------------------------------------------------------------------------


def greeting_name(user: User) -> str:
    """The name a message greets: 汉字 and pinyin for a teacher, else the display name."""
    profile = user.profile
    if profile is None:
        return user.display_name or user.email
    return f"{profile.name_zh} ({profile.name_latin})" if profile.name_zh else profile.name_latin


def queue_bulk_email(recipients: list[User], subject: str, body: str) -> int:
    """One message per teacher in the teacher's language, into the outbox; the caller commits."""
    # the subject and body are the coordinator's words for everyone; bulk_message.txt adds a
    # greeting and a footer in each teacher's language. The outbox keeps the subject on one line.
    for user in recipients:
        queue_email(user.email, "bulk_message", locale=user.locale, kind="dashboard.bulk",
                    subject=subject, body=body, name=greeting_name(user))
    return len(recipients)
