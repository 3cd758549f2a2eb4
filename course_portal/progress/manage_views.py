"""Progress, the coordinators' side: the roster grid, CSV import, rules, schedule, closing."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role
from course_portal.catalog.loaders import get_intake_or_404
from course_portal.catalog.models import Intake, Program
from course_portal.core.clock import portal_today
from course_portal.core.pagecache import cached_page
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, put_errors
from course_portal.enrollment import services as enrollment_services
from course_portal.enrollment.labels import status_label
from course_portal.enrollment.models import Application
from course_portal.extensions import db
from course_portal.progress import csv_import, forms, grid, records, roster_cells, services
from course_portal.progress.errors import ProgressError
from course_portal.progress.models import AssessmentKind
from course_portal.progress.views import (
    FOLLOWED,
    OUTCOME_LABELS,
    RESULT_LABELS,
    bp,
    plain_name,
    progress_context,
)

#: the first letter of a grid cell's name: hours, result, final result, final score
CELL_PREFIXES = ("h-", "r-", "f-", "s-")


def _actor():
    return current_user._get_current_object()


def _program_or_404(program_id: int) -> Program:
    program = db.session.get(Program, program_id)
    if program is None:
        abort(404)
    return program


def _messages(error: ProgressError) -> dict:
    """The error's messages as text (lazy strings would count as safe HTML in a template)."""
    return {name: [str(m) for m in messages] for name, messages in error.errors.items()}


# --- the roster grid ------------------------------------------------------------------------


@bp.route("/progress/manage/intakes/<int:intake_id>/roster", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
@cached_page
def roster(intake_id: int):
    """Every enrolled teacher × every module: attended hours and result, and the final, at once."""
    intake = get_intake_or_404(intake_id)
    if enrollment_services.catch_up(intake):  # the first day, before the timed step ran
        db.session.commit()
    current = grid.load_roster(intake, page=request.args.get("page", 1, type=int))
    form = forms.RosterForm()
    values = current.values()
    errors: dict = {}
    if request.method == "GET":
        form.stamp.data = current.stamp
    elif form.validate_on_submit():
        typed = {k: v for k, v in request.form.items() if k.startswith(CELL_PREFIXES)}
        try:
            outcome = grid.save_grid(current, typed, _actor(), stamp=form.stamp.data or None)
            db.session.commit()
        except ProgressError as error:
            db.session.rollback()
            errors = _messages(error)
            values.update(typed)
            # read after the rollback: a second save goes through once the message was seen
            form.stamp.data = grid.roster_stamp(intake)
        except IntegrityError:
            db.session.rollback()
            errors = {None: [_("Someone else saved results of this intake at the same moment. "
                               "Your entries are kept below: save again.")]}
            values.update(typed)
            form.stamp.data = grid.roster_stamp(intake)
        else:
            flash(ngettext("The results are saved: %(num)d change.",
                           "The results are saved: %(num)d changes.", outcome.changed),
                  "success")
            return redirect(_roster_url(intake, current))
    else:
        values.update({k: v for k, v in request.form.items() if k.startswith(CELL_PREFIXES)})
    verdicts = {a.id: services.judge(current.data.ledger(a.id), with_reasons=False)
                for a in current.applications}
    return render_template(
        "progress/roster.html",
        intake=intake, roster=current, form=form, values=values, errors=errors,
        verdicts=verdicts, close_form=forms.CloseIntakeForm(),
        can_close=intake.ends_on <= portal_today(),
        teacher_row=roster_cells.row_writer(
            modules=current.cell_modules, values=values, errors=errors, labels=_cell_labels(),
            options=roster_cells.result_options(
                {outcome.value: str(label) for outcome, label in OUTCOME_LABELS.items()}),
            is_score=current.rules.final_kind == AssessmentKind.SCORE,
            status_label=status_label, plain_name=plain_name,
            result_label=lambda result: RESULT_LABELS.get(result, result)),
    )


def _cell_labels() -> dict:
    """The labels every cell of the grid repeats, translated once per page rather than per cell.

    A 50-teacher page of an 18-module program has 1,900 cells; translating their labels one by
    one was most of the page's time. These are translated templates the page fills with %
    (names escaped when printed); the result options are built once in the template.
    """
    return {
        "hours": _("%(name)s, module %(num)d: attended hours of %(hours)d"),
        "result": _("%(name)s, module %(num)d: result"),
    }


def _roster_url(intake: Intake, roster: grid.Roster) -> str:
    """The roster page the coordinator was on."""
    page = roster.paging.page if roster.paging and roster.paging.page > 1 else None
    return url_for("progress.roster", intake_id=intake.id, page=page)


@bp.post("/progress/manage/intakes/<int:intake_id>/close")
@role_required(Role.COORDINATOR)
@form_view
def close_intake(intake_id: int):
    """Move every enrolled teacher to completed or not completed by the rules, with emails."""
    intake = get_intake_or_404(intake_id)
    form = forms.CloseIntakeForm()
    if not form.validate_on_submit():
        flash(_("This form had expired. Nothing was changed: try again."), "warning")
        return redirect(url_for("progress.roster", intake_id=intake.id))
    try:
        outcome = records.close_intake(intake, _actor())
    except ProgressError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("progress.roster", intake_id=intake.id))
    db.session.commit()
    flash(_("The intake is closed: %(done)d completed, %(not_done)d did not complete. "
            "Each teacher is notified by email.",
            done=len(outcome.completed), not_done=len(outcome.not_completed)), "success")
    if outcome.failed:
        flash(ngettext("%(num)d application changed meanwhile and was left as it is.",
                       "%(num)d applications changed meanwhile and were left as they are.",
                       len(outcome.failed)), "warning")
    return redirect(url_for("progress.roster", intake_id=intake.id))


# --- CSV ------------------------------------------------------------------------------------


@bp.get("/progress/manage/intakes/<int:intake_id>/roster.csv")
@role_required(Role.COORDINATOR)
def roster_template(intake_id: int):
    """The roster as a CSV template with what is recorded so far."""
    intake = get_intake_or_404(intake_id)
    text = csv_import.template_csv(grid.load_roster(intake))
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="roster-{intake.id}.csv"'},
    )


@bp.route("/progress/manage/intakes/<int:intake_id>/roster/import", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def roster_import(intake_id: int):
    """Upload a CSV of the roster and see, row by row, what it would change and what is wrong."""
    intake = get_intake_or_404(intake_id)
    form = forms.ImportUploadForm()
    preview = text = None
    current = grid.load_roster(intake)
    if form.validate_on_submit():
        data = form.file.data.read(forms.CSV_MAX_BYTES + 1)
        if len(data) > forms.CSV_MAX_BYTES:
            form.file.errors = [_("The file is larger than %(num)d kB; a roster is far smaller.",
                                  num=forms.CSV_MAX_BYTES // 1000)]
        else:
            try:
                text = csv_import.decode(data)
            except ProgressError as error:
                form.file.errors = [str(error.message)]
            else:
                preview = csv_import.check(current, text, _actor())
    confirm = forms.ImportConfirmForm(formdata=None, content=text, stamp=current.stamp)
    return render_template("progress/import.html", intake=intake, form=form, preview=preview,
                           confirm=confirm, roster=current)


@bp.post("/progress/manage/intakes/<int:intake_id>/roster/import/confirm")
@role_required(Role.COORDINATOR)
@form_view
def roster_import_confirm(intake_id: int):
    """Write the previewed CSV, all rows or none."""
    intake = get_intake_or_404(intake_id)
    form = forms.ImportConfirmForm()
    if not form.validate_on_submit():
        flash(_("This form had expired. Nothing was imported: upload the file again."), "warning")
        return redirect(url_for("progress.roster_import", intake_id=intake.id))
    current = grid.load_roster(intake)
    try:
        outcome = csv_import.import_csv(current, form.content.data or "", _actor(),
                                        form.stamp.data)
        db.session.commit()
    except (ProgressError, IntegrityError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, ProgressError) else _(
            "Someone else saved results meanwhile. Nothing was imported: upload the file again.")
        flash(str(message), "error")
        return redirect(url_for("progress.roster_import", intake_id=intake.id))
    flash(ngettext("The file is imported: %(num)d change.",
                   "The file is imported: %(num)d changes.", outcome.changed), "success")
    return redirect(url_for("progress.roster", intake_id=intake.id))


# --- rules and schedule ---------------------------------------------------------------------


@bp.route("/progress/manage/programs/<int:program_id>/rules", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def rules(program_id: int):
    """The program's completion rules: attendance, the final assessment and its pass mark."""
    program = _program_or_404(program_id)
    current = services.rules_for(program)
    form = forms.RulesForm(obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.final_kind.data = current.final_kind.value
    if form.validate_on_submit():
        try:
            records.save_rules(program, _actor(), form.min_attendance_percent.data,
                               form.final_kind.data, form.max_score.data, form.pass_mark.data)
        except ProgressError as error:
            db.session.rollback()
            put_errors(form, error)
        else:
            db.session.commit()
            flash(_("The completion rules of %(code)s are saved.", code=program.code), "success")
            return redirect(url_for("progress.rules", program_id=program.id))
    return render_template("progress/rules.html", program=program, form=form)


@bp.route("/progress/manage/intakes/<int:intake_id>/schedule", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def schedule(intake_id: int):
    """The dates of each module in the intake."""
    intake = get_intake_or_404(intake_id)
    modules = list(intake.program.modules)
    if request.method == "POST":
        form = forms.ScheduleForm()
    else:
        dates = services.schedule_of(intake)
        form = forms.ScheduleForm(data={"modules": [
            {"module_id": m.id,
             "starts_on": dates[m.id].starts_on if m.id in dates else None,
             "ends_on": dates[m.id].ends_on if m.id in dates else None}
            for m in modules]})
    by_id = {m.id: m for m in modules}
    if form.validate_on_submit():
        given = {entry.form.module_id.data: (entry.form.starts_on.data, entry.form.ends_on.data)
                 for entry in form.modules if entry.form.module_id.data is not None}
        try:
            records.save_schedule(intake, given, _actor())
        except ProgressError as error:
            db.session.rollback()
            for name, messages in _messages(error).items():
                module_id = int(name.split(".")[1]) if name and name.startswith("modules.") else 0
                target = next((e.form.starts_on for e in form.modules
                               if e.form.module_id.data == module_id), None)
                if target is None:
                    form.form_errors.extend(messages)
                else:
                    target.errors = [*target.errors, *messages]
        else:
            db.session.commit()
            flash(_("The schedule of “%(title)s” is saved.", title=intake.t("title")), "success")
            return redirect(url_for("progress.roster", intake_id=intake.id))
    return render_template("progress/schedule.html", intake=intake, form=form, modules=by_id)


# --- a teacher's record ---------------------------------------------------------------------


@bp.get("/progress/manage/applications/<int:application_id>")
@role_required(Role.COORDINATOR)
def record(application_id: int):
    """A teacher's progress as the teacher sees it, with eligibility and the history of results."""
    application = db.session.get(
        Application, application_id,
        options=[selectinload(Application.intake).selectinload(Intake.program),
                 selectinload(Application.teacher)],
    )
    if application is None or application.status not in FOLLOWED:
        abort(404)
    return render_template("progress/record.html", history=records.result_history(application),
                           **progress_context(application))
