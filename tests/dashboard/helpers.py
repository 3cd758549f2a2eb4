"""A known data set for the dashboard tests."""

from __future__ import annotations

from dataclasses import dataclass

from course_portal.enrollment.models import FundingSource
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake, tianshui


@dataclass
class DataSet:
    """Two programs, two partners, applications in several statuses."""

    finished: object
    upcoming: object
    tianshui: object
    datong: object


def make_data_set() -> DataSet:
    """Two intakes, two partners, seven applications and a draft, committed."""
    # IE's finished intake: 2 completed (Tianshui), 1 not completed (Datong); IS's upcoming
    # intake: 2 submitted (Tianshui, one self-funded), 1 waitlisted, 1 approved (Datong), 1 draft
    finished = make_finished_intake()
    upcoming = factories.make_intake(factories.make_program(code="IS"), title="Autumn 2026")
    ts = tianshui()
    datong = factories.make_partner(name_en="Datong University", name_zh="大同大学")
    make_completed(finished, family_name_zh="欧阳", given_name_zh="娜娜",
                   family_name_latin="Ouyang", given_name_latin="Nana")
    make_completed(finished)
    make_completed(finished, partner=datong, passed=False)
    for app in finished_apps(finished):
        if app.teacher.profile.partner_university_id == datong.id:
            app.status = "not_completed"
        else:
            app.status = "completed"
    factories.make_application(teacher=factories.make_teacher(partner=ts), intake=upcoming,
                               status="submitted")
    factories.make_application(teacher=factories.make_teacher(partner=ts), intake=upcoming,
                               status="submitted", funding_source=FundingSource.SELF_FUNDED)
    factories.make_application(teacher=factories.make_teacher(partner=datong), intake=upcoming,
                               status="waitlisted")
    factories.make_application(teacher=factories.make_teacher(partner=datong), intake=upcoming,
                               status="approved")
    factories.make_application(teacher=factories.make_teacher(partner=datong), intake=upcoming,
                               status="draft")
    db.session.commit()
    return DataSet(finished, upcoming, ts, datong)


def finished_apps(intake):
    """The applications of an intake, by id."""
    from sqlalchemy import select

    from course_portal.enrollment.models import Application

    return list(db.session.scalars(
        select(Application).where(Application.intake_id == intake.id).order_by(Application.id)))
