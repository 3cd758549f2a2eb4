"""The audit log page: every recorded action, filtered, 50 to a page, and as CSV."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from course_portal.accounts.models import Role
from course_portal.core.audit import record
from course_portal.core.clock import portal_today
from course_portal.core.i18n import current_language
from course_portal.core.permissions import role_required
from course_portal.core.web import options
from course_portal.dashboard import audit
from course_portal.dashboard.audit_forms import AuditFilterForm
from course_portal.dashboard.views import bp
from course_portal.extensions import db


def _filter_form() -> AuditFilterForm:
    """The filters from the query string, with their choices; bad values reset."""
    form = AuditFilterForm(request.args)
    form.actor.choices = options([("", _("Anyone")), (audit.PORTAL, _("Portal"))] + [
        (str(user.id), user.display_name or user.email) for user in audit.staff_users()])
    form.action.choices = options([("", _("Any action"))]) + [
        choice for label, actions in audit.action_groups()
        for choice in options(((name, str(text)) for name, text in actions.items()),
                              optgroup=str(label))]
    form.reset_invalid()
    return form


def _audit_url(filters: audit.AuditFilters, page: int = 1) -> str:
    args: dict[str, Any] = filters.query_args()
    if page > 1:
        args["page"] = page
    return url_for("dashboard.audit", **args)


@bp.route("/dashboard/audit", endpoint="audit")
@role_required(Role.COORDINATOR)
def audit_log():
    """Who did what, to which teacher's record, when and from where: newest first."""
    form = _filter_form()
    filters = form.to_filters()
    page = audit.audit_page(filters, form.page.data or 1)
    labels = audit.action_labels()
    query: dict[str, Any] = filters.query_args()
    return render_template(
        "dashboard/audit.html", form=form, filters=filters, page=page,
        audit_url=lambda number: _audit_url(filters, number),
        export_url=url_for("dashboard.audit_csv", **query),
        action_label=lambda action: audit.action_label(action, labels),
        person=lambda user: audit.person(user, current_language()),
        summary=audit.summary, object_of=audit.object_of, teacher_url=audit.teacher_url,
        # an IP address is personal data that a coordinator's work does not need
        show_ip=current_user.has_role(Role.ADMIN),
    )


@bp.route("/dashboard/audit.csv")
@role_required(Role.COORDINATOR)
def audit_csv():
    """The filtered log as CSV (UTF-8 with a BOM), spreadsheet formulas neutralised."""
    filters = _filter_form().to_filters()
    record("audit.exported", actor=current_user.id, filters=filters.query_args())
    db.session.commit()
    return Response(
        stream_with_context(audit.csv_chunks(filters, current_language(),
                                             with_ip=current_user.has_role(Role.ADMIN))),
        mimetype="text/csv",
        headers={"Content-Disposition":
                 f'attachment; filename="audit-log-{portal_today().isoformat()}.csv"',
                 "Cache-Control": "private, no-store"},
    )
