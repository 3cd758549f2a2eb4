"""Applications, the teacher's side: apply with documents, my applications, withdraw."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from course_portal.accounts import consent
from course_portal.accounts import profiles as account_profiles
from course_portal.accounts.errors import AccountError
from course_portal.accounts.forms import with_university_choices
from course_portal.accounts.models import Role, User
from course_portal.accounts.profile_rules import missing_for_applying
from course_portal.catalog.loaders import get_intake_or_404
from course_portal.catalog.models import Intake, Program
from course_portal.core.clock import portal_today
from course_portal.core.pagecache import cached_page
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, put_errors
from course_portal.enrollment import documents, forms, labels, services
from course_portal.enrollment.errors import EnrollmentError, StaleApplication
from course_portal.enrollment.loaders import get_application_or_404, get_document_or_404
from course_portal.enrollment.models import (
    Application,
    ApplicationStatus,
    DocumentKind,
)
from course_portal.extensions import db, limiter

bp = Blueprint("enrollment", __name__)
log = logging.getLogger(__name__)

S = ApplicationStatus
#: statuses whose history row shows its reason to the teacher (a withdrawal has one only when
#: the portal released a seat that was not confirmed in time)
REASON_SHOWN = frozenset({S.REJECTED, S.WAITLISTED, S.WITHDRAWN})


@bp.context_processor
def _enrollment_helpers():
    return {"status_label": labels.status_label, "document_labels": labels.document_labels}


def _application_of(teacher: User, intake: Intake) -> Application | None:
    return db.session.scalar(
        select(Application)
        .where(Application.teacher_id == teacher.id, Application.intake_id == intake.id)
        .options(selectinload(Application.documents))
    )


def _draft_data(application: Application | None) -> dict:
    """What the draft holds, as the form's initial data."""
    if application is None:
        return {}
    return {
        "motivation": application.motivation,
        "funding_source": application.funding_source.value if application.funding_source else None,
        "funding_other": application.funding_other,
        "consent": application.consent_at is not None,
    }


# --- apply --------------------------------------------------------------------------------


def _uploader() -> str:
    """Uploads are counted per teacher, whichever address they come from."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr}"


def _carries_no_file() -> bool:
    """Saving typed text only is not an upload: it is not counted."""
    return not any(f.filename for f in request.files.values())


@bp.route("/intakes/<int:intake_id>/apply", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["UPLOAD_RATE_LIMIT"], methods=["POST"],
               key_func=_uploader, exempt_when=_carries_no_file, scope="enrollment.upload")
@role_required(Role.TEACHER)
@form_view
def apply(intake_id: int):
    """Start, continue, save and submit the teacher's application to an intake."""
    intake = get_intake_or_404(intake_id, published_only=True)
    teacher = current_user._get_current_object()
    application = _application_of(teacher, intake)
    if application is not None and application.status != S.DRAFT:
        flash(_("You have already applied to this intake. There is one application per "
                "teacher and intake; here it is."), "info")
        return redirect(url_for(".application", application_id=application.id))
    if application is None and not intake.is_accepting_on(portal_today()):
        return render_template("enrollment/apply.html", intake=intake, form=None,
                               application=None, closed=True)

    # an older account may lack what an application needs: the form asks for it here
    form = forms.application_form(missing_for_applying(teacher.profile))(
        data=_draft_data(application))
    if "partner_university_id" in form:
        with_university_choices(form)
    notice, saved = None, False
    if form.validate_on_submit():
        response, application, notice, saved = _save_and_maybe_submit(
            form, teacher, intake, application)
        if response is not None:
            return response
    # a form that did not validate changes nothing: the files it carried were not kept
    files_lost = form.is_submitted() and not saved and any(f.data for f in form.file_fields())
    return render_template("enrollment/apply.html", intake=intake, form=form,
                           application=application, closed=False, notice=notice,
                           files_lost=files_lost, accept=forms.ACCEPT,
                           consents_missing=bool(consent.missing(teacher.id)))


def _complete_profile(form, teacher: User) -> bool:
    """Save to the profile what the apply page asked of it; False when that was refused."""
    asked = {field.name: field.data for field in form.profile_fields()}
    if not asked:
        return True
    try:
        account_profiles.complete_for_applying(teacher, **asked)
    except AccountError as error:  # nothing was changed
        for name, messages in error.errors.items():
            target = form[name].errors if name in form else form.form_errors
            target.extend(messages)
        return False
    return True


def _mark_missing_profile(form) -> None:
    """After a refused submission, mark the profile's fields the page asked for and are empty."""
    for field in form.profile_fields():
        if field.data in (None, "") and not field.errors:
            field.errors = [_("This field is required.")]


def _save_and_maybe_submit(form, teacher: User, intake: Intake, application):
    """Save the draft and its files, submit when asked: (response, application, notice, saved)."""
    profile_saved = _complete_profile(form, teacher)
    try:
        application = services.save_draft(
            teacher, intake,
            motivation=form.motivation.data or "",
            funding_source=form.funding_source.data or None,
            funding_other=form.funding_other.data or "",
            consent=bool(form.consent.data),
        )
    except EnrollmentError as error:
        db.session.rollback()
        put_errors(form, error)
        return None, application, None, False

    refused = _store_files(form, application, teacher)
    if form.send.data and not refused and profile_saved:
        try:
            services.submit(application, teacher)
        except StaleApplication as error:
            # submitted meanwhile (a double click, another tab): keep what that request saved
            db.session.rollback()
            flash(error.message, "warning")
            response = redirect(url_for(".application", application_id=application.id))
            return response, application, None, False
        except EnrollmentError as error:
            # submit changed nothing: the draft and its files are still worth keeping
            put_errors(form, error)
            _mark_missing_profile(form)
        else:
            db.session.commit()
            flash(_("Your application is submitted. We will email you when a coordinator "
                    "has decided."), "success")
            response = redirect(url_for(".application", application_id=application.id))
            return response, application, None, True
    db.session.commit()
    if refused:
        return None, application, _("Your draft is saved, but a file was refused: see the "
                                     "message under it."), True
    if not profile_saved:
        return None, application, _("Your draft is saved, but your profile is not: see the "
                                     "message under the field."), True
    if form.send.data:
        return None, application, _("Your draft is saved, but it cannot be submitted yet: "
                                    "see the messages below."), True
    flash(_("Your draft is saved. You can finish it later from “My applications”."), "success")
    return redirect(url_for(".apply", intake_id=intake.id)), application, None, True


def _store_files(form, application: Application, teacher: User) -> bool:
    """Keep each chosen file as its document; True when one was refused (its message set)."""
    refused = False
    for kind in DocumentKind:
        upload = form[kind.value].data
        if not upload:
            continue
        try:
            documents.store_document(application, kind, upload.filename, upload.stream, teacher)
        except EnrollmentError as error:  # DocumentRefused among them: nothing was stored
            # the service names its file "file"; the form has one file field per kind
            put_errors(form, error, lambda form, name, field=kind.value: form._fields.get(
                field if name == "file" else name) if name else None)
            refused = True
    return refused


# --- my applications ----------------------------------------------------------------------


@bp.get("/applications")
@role_required(Role.TEACHER)
@cached_page
def my_applications():
    """The teacher's applications, newest first, with their status."""
    applications = db.session.scalars(
        select(Application)
        .where(Application.teacher_id == current_user.id)
        .options(selectinload(Application.intake).selectinload(Intake.program)
                 .selectinload(Program.institute))
        .order_by(Application.created_at.desc(), Application.id.desc())
    ).all()
    return render_template("enrollment/my_applications.html", applications=applications)


def _review_url(application: Application) -> str:
    """The coordinators' page of the application."""
    return url_for("enrollment.review_application", application_id=application.id)


@bp.get("/applications/<int:application_id>")
@login_required
def application(application_id: int):
    """An application's page: status, history, documents, and the teacher's actions."""
    application = get_application_or_404(
        application_id, current_user,
        options=[selectinload(Application.events), selectinload(Application.documents),
                 selectinload(Application.intake).selectinload(Intake.program)],
    )
    is_owner = application.teacher_id == current_user.id
    if not is_owner:
        review_url = _review_url(application)
        if review_url:
            return redirect(review_url)
    return render_template(
        "enrollment/application.html",
        application=application,
        is_owner=is_owner,
        can_withdraw=is_owner and S.WITHDRAWN in services.allowed_targets(application),
        reason_shown=REASON_SHOWN,
        funding_labels=dict(labels.teacher_funding_choices()),
    )


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@role_required(Role.TEACHER)
@form_view
def withdraw(application_id: int):
    """Confirm, then withdraw the teacher's own application."""
    application = get_application_or_404(
        application_id, current_user,
        options=[selectinload(Application.intake).selectinload(Intake.program)],
    )
    if application.teacher_id != current_user.id:
        abort(404)
    page = url_for(".application", application_id=application.id)
    if S.WITHDRAWN not in services.allowed_targets(application):
        flash(_("This application can no longer be withdrawn."), "warning")
        return redirect(page)
    form = forms.WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw(application, current_user._get_current_object())
        except EnrollmentError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(page)
        db.session.commit()
        flash(_("Your application is withdrawn."), "success")
        return redirect(page)
    return render_template("enrollment/withdraw.html", application=application, form=form)


# --- documents ----------------------------------------------------------------------------


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    """Download a document: its teacher and coordinators only; never shown inline."""
    document = get_document_or_404(document_id, current_user)
    try:
        path = documents.open_document(document)
    except (FileNotFoundError, ValueError):
        log.error("the file of document %s is missing", document.id)
        abort(404)
    response = send_file(
        path,
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.original_filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# the coordinators' review pages, and the confirmation of a seat, live on the same blueprint
from course_portal.enrollment import confirmation_views, review_views  # noqa: E402,F401
