"""Pages of a teacher's data: a copy of everything, and erasure; staff's side of both."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from course_portal.accounts import consent
from course_portal.accounts.models import Role, User
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view
from course_portal.extensions import db
from course_portal.privacy import erasure, forms
from course_portal.privacy import export as exports
from course_portal.privacy.models import DataExport, ErasureRequest, ExportStatus

bp = Blueprint("privacy", __name__)


def get_teacher_or_404(user_id: int) -> User:
    teacher = db.session.get(User, user_id)
    if teacher is None or teacher.role != Role.TEACHER:
        abort(404)
    return teacher


def get_export_or_404(export_id: int) -> DataExport:
    """A copy, for whoever asked for it alone: 404 for anyone else, the teacher included."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.requested_by_id != current_user.id:
        abort(404)
    return export


def _start(teacher: User, actor: User, reason: str = "") -> DataExport:
    export = exports.request_export(teacher, actor=actor, reason=reason)
    db.session.commit()
    if export.status is ExportStatus.PENDING:
        exports.start(export)
    return export


@bp.post("/privacy/export")
@role_required(Role.TEACHER)
def request_own_export():
    """The teacher asks for a copy of everything the portal holds about them."""
    form = forms.ExportForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    export = _start(user, user)
    return redirect(url_for("privacy.export_status", export_id=export.id))


@bp.get("/privacy/exports/<int:export_id>")
@login_required
def export_status(export_id: int):
    """How far a copy is; its download link while it is valid."""
    export = get_export_or_404(export_id)
    db.session.refresh(export)
    gone = export.status is ExportStatus.EXPIRED or (
        export.status is ExportStatus.READY and not exports.is_downloadable(export))
    return render_template("privacy/export.html", export=export, gone=gone,
                           for_self=export.user_id == current_user.id,
                           form=forms.ExportForm()), (410 if gone else 200)


@bp.get("/privacy/exports/<int:export_id>/download")
@login_required
def download_export(export_id: int):
    """The ZIP, for whoever asked for it, while its link is valid; 410 after."""
    export = get_export_or_404(export_id)
    path = exports.path_of(export) if exports.is_downloadable(export) else None
    if path is None or not path.is_file():
        if export.status in (ExportStatus.PENDING, ExportStatus.BUILDING):
            return redirect(url_for("privacy.export_status", export_id=export.id))
        return render_template("privacy/export.html", export=export, gone=True,
                               for_self=export.user_id == current_user.id,
                               form=forms.ExportForm()), 410
    exports.record_download(export, actor=current_user._get_current_object())
    db.session.commit()
    response = send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name=exports.download_name(export), max_age=0)
    response.headers["Cache-Control"] = "no-store, private"
    return response


@bp.route("/privacy/teachers/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def teacher(user_id: int):
    """Staff's page of one teacher's data: consents in force, copies made for them, erasure.

    A coordinator makes a copy only on the teacher's request and says how it came (audited).
    """
    teacher = get_teacher_or_404(user_id)
    form = forms.StaffExportForm()
    actor = current_user._get_current_object()
    if form.validate_on_submit():
        export = _start(teacher, actor, reason=(form.reason.data or "").strip())
        flash(_("The copy is being made; only you can download it."), "info")
        return redirect(url_for("privacy.export_status", export_id=export.id))
    return render_template(
        "privacy/teacher.html", teacher=teacher, form=form,
        consents=consent.in_force(teacher.id), consent_texts=consent.current_texts(),
        exports=exports.exports_of(teacher.id, actor.id),
        erasures=erasure.requests_of(teacher.id),
        confirm_form=forms.ErasureConfirmForm())


@bp.route("/privacy/erasure", methods=["GET", "POST"])
@role_required(Role.TEACHER)
@form_view
def erasure_page():
    """What erasure deletes and keeps; the request, confirmed with the password; its state."""
    user = current_user._get_current_object()
    form = forms.ErasureRequestForm()
    waiting = erasure.pending_request(user.id)
    if waiting is None and form.validate_on_submit():
        try:
            erasure.request_erasure(user, password=form.password.data or "")
        except erasure.ErasureRefused as refused:
            form.password.errors = [*form.password.errors, refused.message]
        else:
            db.session.commit()
            flash(_("Your request is received. A coordinator will confirm it; you can cancel "
                    "it here until it proceeds."), "info")
            return redirect(url_for("privacy.erasure_page"))
    enrolled = ", ".join(f"{a.intake.program.t('title')} · {a.intake.t('title')}"
                         for a in erasure.studies_under_way(user))
    return render_template("privacy/erasure.html", form=form, waiting=waiting,
                           enrolled=enrolled, cancel_form=forms.ErasureCancelForm())


@bp.post("/privacy/erasure/cancel")
@role_required(Role.TEACHER)
def cancel_erasure():
    """The teacher withdraws their request while it waits."""
    form = forms.ErasureCancelForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    waiting = erasure.pending_request(user.id)
    if waiting is not None and erasure.cancel(waiting, actor=user):
        db.session.commit()
        flash(_("Your request to erase your data is cancelled."), "success")
    return redirect(url_for("privacy.erasure_page"))


@bp.get("/privacy/erasures")
@role_required(Role.COORDINATOR)
def erasures():
    """Staff: the requests waiting for a confirmation, the soonest to proceed first."""
    return render_template("privacy/erasures.html", requests=erasure.waiting(),
                           confirm_form=forms.ErasureConfirmForm())


@bp.post("/privacy/erasures/<int:request_id>/confirm")
@role_required(Role.COORDINATOR)
def confirm_erasure(request_id: int):
    """Staff confirm a request: the teacher's data is erased now."""
    from course_portal.privacy import erasure

    form = forms.ErasureConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    request_row = db.session.get(ErasureRequest, request_id)
    if request_row is None:
        abort(404)
    db.session.refresh(request_row, with_for_update=True)
    if erasure.confirm(request_row, actor=current_user._get_current_object()):
        db.session.commit()
        flash(_("The teacher's data is erased; their certificates stay in the registry."),
              "success")
    else:
        db.session.rollback()
        flash(_("This request is no longer waiting: it was cancelled or done already."), "info")
    return redirect(url_for("privacy.erasures"))
