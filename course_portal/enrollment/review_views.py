"""Applications, the coordinators' side: the review queue, decisions and exports."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from course_portal.accounts import consent
from course_portal.accounts.forms import academic_title_choices
from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.catalog.models import Intake
from course_portal.core import audit
from course_portal.core.clock import portal_today
from course_portal.core.i18n import LANGUAGE_NAMES, current_language
from course_portal.core.pagecache import cached_page
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, put_errors
from course_portal.enrollment import (
    confirmation,
    filter_lists,
    labels,
    queue,
    queue_export,
    queue_rows,
    seats,
    services,
)
from course_portal.enrollment.errors import EnrollmentError, StaleApplication
from course_portal.enrollment.loaders import get_application_or_404
from course_portal.enrollment.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Document,
)
from course_portal.enrollment.review_forms import (
    BulkDecisionForm,
    DecisionForm,
    ExtendConfirmationForm,
    QueueFilterForm,
)
from course_portal.enrollment.views import bp
from course_portal.extensions import db

log = logging.getLogger(__name__)

S = ApplicationStatus
#: the decisions, in the order of the buttons
DECISION_ORDER = (S.APPROVED, S.WAITLISTED, S.REJECTED)


# --- the queue ------------------------------------------------------------------------------


def _filter_form(choices: filter_lists.Catalog) -> QueueFilterForm:
    """The filters from the query string, with the choices filled in; bad values reset."""
    form = QueueFilterForm(request.args)
    filter_lists.fill_choices(form, choices)
    form.reset_invalid()
    return form


def _queue_url(filters: queue.QueueFilters, page: int = 1) -> str:
    """The queue with these filters, on that page."""
    args: dict[str, Any] = filters.query_args()
    if page > 1:
        args["page"] = page
    return url_for("enrollment.review_queue", **args)


def _done(decision: str, count: int) -> str:
    """How many were decided: "3 approved"."""
    if decision == S.APPROVED:
        return ngettext("%(num)d approved", "%(num)d approved", count)
    if decision == S.WAITLISTED:
        return ngettext("%(num)d put on the waiting list", "%(num)d put on the waiting list",
                        count)
    return ngettext("%(num)d rejected", "%(num)d rejected", count)


def _flash_outcome(outcome: services.BulkOutcome, decision: str) -> None:
    """One summary: how many were decided and, for each one that was not, why."""
    done = _done(decision, len(outcome.succeeded))
    if not outcome.failed:
        flash(_("%(done)s.", done=done), "success")
        return
    labels = queue.application_labels(outcome.failed)
    # one message once, after the applications it concerns: 40 "every seat is taken" read as one
    groups: dict[str, list[str]] = {}
    for application_id, message in sorted(outcome.failed.items()):
        groups.setdefault(str(message), []).append(
            labels.get(application_id, f"№ {application_id}"))
    reasons = " ".join(f"{', '.join(names)}: {message}" for message, names in groups.items())
    flash(_("%(done)s; %(failed)d could not be: %(reasons)s",
            done=done, failed=len(outcome.failed), reasons=reasons), "warning")


@bp.route("/review", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
@cached_page
def review_queue():
    """The applications to review, filtered and sorted, 50 to a page; decide on many at once."""
    choices = filter_lists.read_catalog()
    filter_form = _filter_form(choices)
    filters = filter_form.to_filters()
    page_number = filter_form.page.data or 1
    form = BulkDecisionForm()
    if form.validate_on_submit():
        decision = form.decision()
        try:
            outcome = queue.bulk_decide(
                form.seen(), decision, current_user._get_current_object(),
                reason=form.reason.data or "",
            )
        except EnrollmentError as error:
            db.session.rollback()
            put_errors(form, error)
        else:
            db.session.commit()
            _flash_outcome(outcome, decision)
            return redirect(_queue_url(filters, page_number))
    page = queue.queue_page(filters, page_number, language=current_language())
    return render_template(
        "enrollment/review/queue.html",
        filter_form=filter_form,
        filters=filters,
        form=form,
        page=page,
        intake=choices.intake(filters.intake_id),
        queue_row=queue_rows.row_writer(set(form.seen()) if form.is_submitted() else set()),
        queue_url=lambda number: _queue_url(filters, number),
    )


# --- one application ------------------------------------------------------------------------

#: what the application page shows, loaded in a few queries
PAGE_OPTIONS = (
    selectinload(Application.teacher).selectinload(User.profile)
    .selectinload(TeacherProfile.partner_university),
    selectinload(Application.intake).selectinload(Intake.program),
    selectinload(Application.documents),
    selectinload(Application.events).selectinload(ApplicationEvent.actor)
    .selectinload(User.profile),
)


def _load(application_id: int) -> Application:
    return get_application_or_404(application_id, current_user, options=PAGE_OPTIONS)


def document_url(document: Document) -> str:
    """The download link of a document (the teacher-side route, which lets coordinators in)."""
    return url_for("enrollment.document", document_id=document.id)


def _render_application(application: Application, form: DecisionForm, status: int = 200,
                        extend_form: ExtendConfirmationForm | None = None):
    profile = application.teacher.profile
    partner_id = profile.partner_university_id if profile is not None else None
    allowed = services.allowed_targets(application)
    return render_template(
        "enrollment/review/application.html",
        application=application,
        profile=profile,
        form=form,
        decisions=[d for d in DECISION_ORDER if d in allowed],
        quota=seats.quota_for(application.intake_id, partner_id),
        academic_titles=dict(academic_title_choices()),
        language_name=LANGUAGE_NAMES.get(application.teacher.locale, application.teacher.locale),
        document_url=document_url,
        consents=consent.in_force(application.teacher_id),
        consent_texts=consent.current_texts(),
        status_name=labels.status_name,
        status_label=labels.status_label,
        funding_name=labels.funding_name,
        # the seat's confirmation deadline: its extensions and the form to move it
        extend_form=extend_form or ExtendConfirmationForm(
            prefix="extend", formdata=None, until=application.confirm_by),
        extensions=(confirmation.extensions_of(application) if application.confirm_by
                    else []),
    ), status


@bp.get("/review/applications/<int:application_id>")
@role_required(Role.COORDINATOR)
def review_application(application_id: int):
    """An application as a coordinator reviews it: profile, documents, history, decisions."""
    application = _load(application_id)
    form = DecisionForm(seen_status=application.status.value)
    return _render_application(application, form)


def _decided_message(decision: str, name: str) -> str:
    if decision == S.APPROVED:
        return _("Approved: %(name)s.", name=name)
    if decision == S.WAITLISTED:
        return _("Put on the waiting list: %(name)s.", name=name)
    return _("Rejected: %(name)s.", name=name)


@bp.post("/review/applications/<int:application_id>/decide")
@role_required(Role.COORDINATOR)
@form_view
def review_decide(application_id: int):
    """Approve, waitlist or reject one application; the page says why when it cannot."""
    application = _load(application_id)
    form = DecisionForm()
    if form.validate_on_submit():
        decision = form.decision()
        try:
            queue.decide(application, decision, current_user._get_current_object(),
                         reason=form.reason.data or "", seen_status=form.seen_status.data)
        except EnrollmentError as error:
            db.session.rollback()
            put_errors(form, error)
            if isinstance(error, StaleApplication):
                # the page now shows the current status: deciding again from it is informed
                form.seen_status.data = application.status.value
        else:
            db.session.commit()
            label = queue.application_labels([application.id]).get(application.id, "")
            flash(_decided_message(decision, label), "success")
            return redirect(url_for("enrollment.review_application",
                                    application_id=application.id))
    return _render_application(application, form)


# --- exports --------------------------------------------------------------------------------


def _export_filters() -> queue.QueueFilters:
    return _filter_form(filter_lists.read_catalog()).to_filters()


def _log_export(kind: str, filters: queue.QueueFilters) -> None:
    """Personal data leaves the portal: say who took it, and which filters (not the search)."""
    args = {name: value for name, value in filters.query_args().items() if name != "q"}
    log.info("user %s exported applications as %s, filters %r, search %s",
             current_user.id, kind, args, "yes" if filters.search else "no")
    audit.record("applications.exported", actor=current_user.id, format=kind, filters=args,
                 search=bool(filters.search))
    db.session.commit()


def _attachment(name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    }


@bp.get("/review/export.csv")
@role_required(Role.COORDINATOR)
def review_export_csv():
    """The filtered queue, every page, as CSV (UTF-8 with a BOM, so Excel reads 汉字)."""
    filters = _export_filters()
    _log_export("CSV", filters)
    chunks = queue_export.csv_chunks(filters, current_language())
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers=_attachment(f"applications-{portal_today().isoformat()}.csv"),
    )


@bp.get("/review/export.xlsx")
@role_required(Role.COORDINATOR)
def review_export_xlsx():
    """The filtered queue, every page, as an Excel workbook."""
    filters = _export_filters()
    _log_export("XLSX", filters)
    return Response(
        queue_export.xlsx_bytes(filters, current_language()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_attachment(f"applications-{portal_today().isoformat()}.xlsx"),
    )
