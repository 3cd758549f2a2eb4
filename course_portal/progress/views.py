"""Progress, the teacher's side: hours credited, modules with dates and results, what comes next."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role
from course_portal.calendar.views import subscribe_context
from course_portal.catalog.models import Intake
from course_portal.core.clock import portal_today
from course_portal.core.i18n import current_language
from course_portal.core.names import display_name
from course_portal.core.pagecache import cached_page
from course_portal.core.permissions import role_required
from course_portal.enrollment import services as enrollment_services
from course_portal.enrollment.labels import status_label
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db
from course_portal.progress import services
from course_portal.progress.models import Outcome

bp = Blueprint("progress", __name__)

S = ApplicationStatus
#: statuses that have a progress page: the course has started for them
FOLLOWED = (S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED)

OUTCOME_LABELS = {
    Outcome.PENDING: _l("Not yet"),
    Outcome.PASSED: _l("Passed"),
    Outcome.FAILED: _l("Failed"),
}
STATE_LABELS = {
    services.MODULE_DONE: _l("Done"),
    services.MODULE_CURRENT: _l("In progress"),
    services.MODULE_UPCOMING: _l("Coming up"),
    services.MODULE_UNSCHEDULED: _l("Dates to be announced"),
}
RESULT_LABELS = {
    services.RESULT_PASSED: _l("Completion rules met"),
    services.RESULT_NOT_PASSED: _l("Completion rules not met"),
    services.RESULT_PENDING: _l("In progress"),
}


@bp.context_processor
def _progress_helpers():
    return {
        "status_label": status_label,
        "plain_name": plain_name,
        "outcome_label": lambda outcome: OUTCOME_LABELS.get(Outcome(outcome), outcome),
        "module_state_label": lambda state: STATE_LABELS.get(state, state),
        "result_label": lambda result: RESULT_LABELS.get(result, result),
    }


def plain_name(user) -> str:
    """The teacher's name as plain text for the page's language (for labels, not markup)."""
    return display_name(user.profile, current_language()) or user.email


def _own_application_or_404(application_id: int) -> Application:
    """The signed-in teacher's own application whose course has started; 404 for anything else."""
    application = db.session.get(
        Application, application_id,
        options=[selectinload(Application.intake).selectinload(Intake.program)],
    )
    if (application is None or application.teacher_id != current_user.id
            or application.status not in FOLLOWED):
        abort(404)
    return application


def progress_context(application: Application) -> dict:
    """What the progress pages show: the ledger, eligibility and where the teacher stands."""
    ledger = services.hours_ledger(application)
    today = portal_today()
    return {
        "application": application,
        "ledger": ledger,
        "verdict": services.judge(ledger),
        "standing": services.standing(ledger, today),
        "states": {line.module_id: services.module_state(line, today) for line in ledger.lines},
        "today": today,
    }


@bp.get("/progress")
@role_required(Role.TEACHER)
@cached_page
def mine():
    """The teacher's courses that have started, each with its progress bar."""
    approved = db.session.scalars(
        select(Application).where(Application.teacher_id == current_user.id,
                                  Application.status == S.APPROVED)
        .options(selectinload(Application.intake)))
    # an intake that started today lists the teacher even before the timed step has run
    if any([enrollment_services.catch_up(a.intake) for a in approved]):
        db.session.commit()
    applications = list(db.session.scalars(
        select(Application)
        .where(Application.teacher_id == current_user.id, Application.status.in_(FOLLOWED))
        .options(selectinload(Application.intake).selectinload(Intake.program))
        .order_by(Application.id.desc())
    ))
    courses = [progress_context(application) for application in applications]
    had_feed = current_user.calendar_token is not None
    calendar = subscribe_context(current_user._get_current_object())
    if not had_feed:
        db.session.commit()  # the feed's token, made once, on the teacher's first visit
    return render_template("progress/mine.html", courses=courses, **calendar)


@bp.get("/progress/<int:application_id>")
@role_required(Role.TEACHER)
@cached_page
def application(application_id: int):
    """One course: the bar, each module with dates, state and result, and what comes next."""
    return render_template("progress/application.html",
                           **progress_context(_own_application_or_404(application_id)))


from course_portal.progress import cli, manage_views  # noqa: E402,F401  (commands, routes on bp)
