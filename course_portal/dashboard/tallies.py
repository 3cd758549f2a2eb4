"""Running counts of applications for the dashboard, kept by the database in every transaction.

The dashboard's figures counted every application at each request: 36 ms of SQL at 20,000
applications, growing with the registry. These tables hold the same counts, kept up to date by
triggers on applications, certificates and teacher profiles (migration 9c4e7a1d2b6f), so they
change in the very transaction that changes a row, however the row is changed (the ORM, a
compare-and-set UPDATE, a bulk load, a cascade), on SQLite and PostgreSQL alike:

- ApplicationTally: applications per intake, teacher's partner university, funding source and
  status, and how many of them hold an issued certificate (about 2,600 rows for 20,000
  applications; their number depends on intakes and partners, not on applications);
- TeacherTally: each teacher's applications that are not drafts;
- PartnerTally: teachers with at least one such application, per partner university.

A partner university of 0 and a funding source of "" stand for none. recount() says what the
counts must be, from the rows themselves; the tests compare the two after random changes.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from course_portal.db import Base
from course_portal.extensions import db


class ApplicationTally(Base):
    """Applications of one intake, partner, funding source and status."""

    __tablename__ = "application_tallies"

    intake_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the teacher's partner university now, 0 for none
    partner_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the funding source's value, "" for none
    funding_key: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    applications: Mapped[int] = mapped_column(Integer, default=0)
    #: of these applications, those with an issued (valid) certificate
    certified: Mapped[int] = mapped_column(Integer, default=0)


class TeacherTally(Base):
    """One teacher's applications that are not drafts."""

    __tablename__ = "teacher_tallies"

    teacher_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applications: Mapped[int] = mapped_column(Integer, default=0)


class PartnerTally(Base):
    """Teachers of one partner university (0: none) with an application that is not a draft."""

    __tablename__ = "partner_tallies"

    partner_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    teachers: Mapped[int] = mapped_column(Integer, default=0)


#: emptied last when a test empties the database: the other tables' triggers write to them
TALLY_TABLES = ("application_tallies", "teacher_tallies", "partner_tallies")


def recount() -> dict[str, dict]:
    """The three tallies as the rows say they must be, without the zero rows."""
    from course_portal.accounts.models import TeacherProfile
    from course_portal.certificates.models import Certificate, CertificateStatus
    from course_portal.enrollment.models import Application, ApplicationStatus

    partner = func.coalesce(TeacherProfile.partner_university_id, 0)
    funding = func.coalesce(Application.funding_source, "")
    issued = (select(Certificate.application_id)
              .where(Certificate.status == CertificateStatus.ISSUED).scalar_subquery())
    rows = db.session.execute(
        select(Application.intake_id, partner, funding, Application.status, func.count(),
               func.count().filter(Application.id.in_(issued)))
        .outerjoin(TeacherProfile, TeacherProfile.user_id == Application.teacher_id)
        .group_by(Application.intake_id, partner, funding, Application.status)
    ).all()
    applications = {(i, p, f, str(getattr(s, "value", s))): (n, c) for i, p, f, s, n, c in rows}
    teachers = dict(db.session.execute(
        select(Application.teacher_id, func.count())
        .where(Application.status != ApplicationStatus.DRAFT)
        .group_by(Application.teacher_id)).all())
    by_partner: dict[int, int] = {}
    for teacher_id in teachers:
        key = db.session.scalar(select(func.coalesce(func.max(
            TeacherProfile.partner_university_id), 0)).where(TeacherProfile.user_id == teacher_id))
        key = key or 0  # coalesce() gives 0 already; the column's type says int | None
        by_partner[key] = by_partner.get(key, 0) + 1
    return {"applications": applications, "teachers": teachers, "partners": by_partner}


def stored() -> dict[str, dict]:
    """The three tallies as stored, without the zero rows (a count that went back to 0)."""
    applications = {
        (t.intake_id, t.partner_key, t.funding_key, t.status): (t.applications, t.certified)
        for t in db.session.scalars(select(ApplicationTally))
        if t.applications or t.certified}
    teachers = {t.teacher_id: t.applications for t in db.session.scalars(select(TeacherTally))
                if t.applications}
    partners = {t.partner_key: t.teachers for t in db.session.scalars(select(PartnerTally))
                if t.teachers}
    return {"applications": applications, "teachers": teachers, "partners": partners}
