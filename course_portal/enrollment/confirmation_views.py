"""Confirming a seat: the teacher's one button, and the coordinator's new deadline."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role
from course_portal.catalog.models import Intake
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, put_errors
from course_portal.enrollment import confirmation
from course_portal.enrollment.errors import EnrollmentError
from course_portal.enrollment.forms import ConfirmSeatForm
from course_portal.enrollment.loaders import get_application_or_404
from course_portal.enrollment.models import Application
from course_portal.enrollment.review_forms import DecisionForm, ExtendConfirmationForm
from course_portal.enrollment.review_views import _load, _render_application
from course_portal.enrollment.views import bp
from course_portal.extensions import db


@bp.context_processor
def _seat_helpers():
    return {"seat_state": confirmation.seat_state}


@bp.route("/applications/<int:application_id>/confirm", methods=["GET", "POST"])
@role_required(Role.TEACHER)
@form_view
def confirm_seat(application_id: int):
    """The page of the approval email's link: the deadline and one button to take part."""
    application = get_application_or_404(
        application_id, current_user,
        options=[selectinload(Application.intake).selectinload(Intake.program)],
    )
    if application.teacher_id != current_user.id:
        abort(404)
    page = url_for(".application", application_id=application.id)
    form = ConfirmSeatForm()
    if form.validate_on_submit():
        try:
            confirmation.confirm(application, current_user._get_current_object())
        except EnrollmentError as error:
            db.session.rollback()
            flash(error.message, "warning")
            return redirect(page)
        db.session.commit()
        flash(_("Your seat is confirmed. The program starts on %(day)s.",
                day=format_date(application.intake.starts_on, "long")), "success")
        return redirect(page)
    state = confirmation.seat_state(application)
    return render_template(
        "enrollment/confirm.html",
        application=application,
        form=form,
        state=state,
        problem=None if state == confirmation.TO_CONFIRM else confirmation.confirm_problem(
            application),
    )


@bp.post("/review/applications/<int:application_id>/confirmation")
@role_required(Role.COORDINATOR)
@form_view
def review_extend_confirmation(application_id: int):
    """Give one approved teacher a new last day to confirm the seat, with a reason."""
    application = _load(application_id)
    form = ExtendConfirmationForm(prefix="extend")
    if form.validate_on_submit():
        try:
            confirmation.extend(application, current_user._get_current_object(),
                                form.until.data, form.reason.data or "")
        except EnrollmentError as error:
            db.session.rollback()
            put_errors(form, error)
        else:
            db.session.commit()
            assert application.confirm_by is not None  # extend() set it
            flash(_("The teacher now has until %(day)s to confirm the seat; they are told by "
                    "email.", day=application.confirm_by.isoformat()), "success")
            return redirect(url_for("enrollment.review_application",
                                    application_id=application.id))
    decision = DecisionForm(formdata=None, seen_status=application.status.value)
    return _render_application(application, decision, extend_form=form)
