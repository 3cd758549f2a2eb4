"""The coordinators' dashboard: figures and charts, intake overview, reports and bulk email."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from course_portal.accounts.models import Role
from course_portal.catalog.models import Intake, PartnerUniversity
from course_portal.certificates.pdf import CertificateError
from course_portal.core import steps
from course_portal.core.audit import record
from course_portal.core.clock import portal_today
from course_portal.core.i18n import current_language
from course_portal.core.pagecache import cached_page
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view
from course_portal.dashboard import reports, services
from course_portal.dashboard.charts import bar_chart, table_rows
from course_portal.dashboard.forms import BulkEmailForm, DashboardFilterForm
from course_portal.dashboard.services import Bar
from course_portal.enrollment.filter_lists import fill_choices, read_catalog
from course_portal.enrollment.labels import FUNDING_NAMES, status_name
from course_portal.enrollment.models import FundingSource
from course_portal.enrollment.queue import REVIEWABLE
from course_portal.extensions import db

bp = Blueprint("dashboard", __name__)

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


#: the characters werkzeug leaves unquoted in a query string (werkzeug.urls._urlencode)
QUERY_SAFE = "!$'()*,/:;?@"


def queue_links(filters: services.DashboardFilters) -> Callable[..., str]:
    """link(**extra): the review queue narrowed to the dashboard's filters and a figure's own.

    The queue's URL has no variable part: its path is built once and each figure's arguments
    appended as url_for appends them, in the same order and quoting, instead of one url_for
    per bar and figure (about 30 a page).
    """
    path = url_for("enrollment.review_queue")

    def link(**extra) -> str:
        args = filters.queue_args(**extra)
        return f"{path}?{urlencode(args, safe=QUERY_SAFE)}" if args else path

    return link


def _charts(figures: services.Figures, filters: services.DashboardFilters) -> list[dict]:
    """Each figure as a chart: its id, title, bars and the label of its number column."""
    queue_url = queue_links(filters)
    status_bars = [
        Bar(str(status_name(s)), figures.by_status.get(s.value, 0),
            queue_url(status=s.value), key=s.value)
        for s in REVIEWABLE
    ]
    seat_bars = [
        Bar(f"{intake.program_code} · {intake.t('title')}", taken,
            url_for("dashboard.intake", intake_id=intake.id), of=intake.capacity,
            key=str(intake.id))
        for intake, taken in figures.seats
    ]
    partner_bars = [
        Bar(partner.t("name") if partner else _("No partner university"), count,
            queue_url(partner=partner.id, status="all") if partner else "",
            key=str(partner.id) if partner else "")
        for partner, count in figures.by_partner
    ]
    funding_bars = [
        Bar(str(FUNDING_NAMES[source]), figures.by_funding.get(source.value, 0),
            queue_url(funding=source.value, status="all"), key=source.value)
        for source in FundingSource
    ]
    if figures.by_funding.get(None):
        funding_bars.append(Bar(_("Not chosen"), figures.by_funding[None]))
    return [
        {"id": "by-status", "title": _("Applications by status"), "bars": status_bars,
         "column": _("Applications")},
        {"id": "seats", "title": _("Seats filled per intake"), "bars": seat_bars,
         "column": _("Seats filled of capacity")},
        {"id": "by-partner", "title": _("Teachers per partner university"),
         "bars": partner_bars, "column": _("Teachers")},
        {"id": "by-funding", "title": _("Applications per funding source"),
         "bars": funding_bars, "column": _("Applications")},
    ]


@bp.route("/dashboard")
@role_required(Role.COORDINATOR)
@cached_page
def index():
    """Figures and charts of the applications, narrowed by program, intake, partner, period."""
    catalog = read_catalog()
    form = DashboardFilterForm(request.args)
    fill_choices(form, catalog)
    form.reset_invalid()
    filters = form.to_filters()
    figures = services.figures(filters, catalog)
    charts = _charts(figures, filters)
    for chart in charts:
        chart["svg"] = bar_chart(chart["bars"], chart["title"], chart["id"])
        chart["rows"] = table_rows(chart["bars"])
    return render_template(
        "dashboard/index.html", form=form, filters=filters, figures=figures, charts=charts,
        queue_url=queue_links(filters), overdue_steps=steps.overdue(),
    )


@bp.route("/dashboard/intakes/<int:intake_id>")
@role_required(Role.COORDINATOR)
def intake(intake_id: int):
    """One intake at a glance: each teacher's hours, who is at risk, the dates ahead."""
    found = db.session.get(Intake, intake_id)
    if found is None:
        abort(404)
    overview = services.intake_overview(found, portal_today())
    return render_template("dashboard/intake.html", overview=overview, intake=found,
                           status_name=status_name)


# --- reports --------------------------------------------------------------------------------


def _download(report: reports.Report, fmt: str, name: str, back: str) -> BaseResponse:
    """The report as a CSV, XLSX or PDF attachment; back to its page (back) if a PDF fails."""
    body: str | bytes
    if fmt == "csv":
        body = reports.report_csv(report)
    elif fmt == "xlsx":
        body = reports.report_xlsx(report)
    else:
        from course_portal.dashboard.pdf import render_report

        labels = {
            "university": _("Peter the Great St. Petersburg Polytechnic University"),
            "generated": _("Made on %(day)s", day=portal_today().isoformat()),
            "empty": _("Nothing to report."),
        }
        try:
            body = render_report(report, current_language(), labels)
        except CertificateError as exc:  # logged where it stopped
            flash(str(exc.message), "error")
            return redirect(back)
    record("report.exported", actor=current_user.id, report=name, format=fmt)
    db.session.commit()
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@bp.route("/dashboard/reports")
@role_required(Role.COORDINATOR)
def report_list():
    """The application-status report, and the partner universities' reports."""
    return render_template("dashboard/reports.html", report=reports.status_report(),
                           partners=read_catalog().partners)


@bp.route("/dashboard/reports/status.<any(csv, xlsx, pdf):fmt>")
@role_required(Role.COORDINATOR)
def status_report_file(fmt: str):
    """The application-status report as a file."""
    return _download(reports.status_report(), fmt, "application-status",
                     url_for(".report_list"))


def _partner(partner_id: int) -> PartnerUniversity:
    partner = db.session.get(PartnerUniversity, partner_id)
    if partner is None:
        abort(404)
    return partner


@bp.route("/dashboard/reports/partners/<int:partner_id>")
@role_required(Role.COORDINATOR)
def partner_report(partner_id: int):
    """One partner university's teachers across intakes."""
    partner = _partner(partner_id)
    return render_template("dashboard/partner_report.html", partner=partner,
                           report=reports.partner_report(partner))


@bp.route("/dashboard/reports/partners/<int:partner_id>.<any(csv, xlsx, pdf):fmt>")
@role_required(Role.COORDINATOR)
def partner_report_file(partner_id: int, fmt: str):
    """One partner university's report as a file."""
    partner = _partner(partner_id)
    return _download(reports.partner_report(partner), fmt, f"partner-{partner.id}",
                     url_for(".partner_report", partner_id=partner.id))


# --- bulk email -----------------------------------------------------------------------------


@bp.route("/dashboard/email", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def bulk_email():
    """Write to the teachers of an intake or a filtered set: preview first, then send."""
    catalog = read_catalog()
    if request.method == "POST":
        form = BulkEmailForm()
    else:  # a link from an intake's overview fills in the intake
        form = BulkEmailForm(formdata=request.args or None)
    fill_choices(form, catalog)
    if form.validate_on_submit() and request.form.get("action") != "edit":
        recipients = services.recipients(form.to_filters(), form.statuses())
        if request.form.get("action") == "send" and recipients:
            services.queue_bulk_email(recipients, form.subject.data or "", form.body.data or "")
            record("email.bulk_sent", actor=current_user.id, count=len(recipients),
                   subject=form.subject.data, audience=form.audience.data,
                   filters=form.to_filters().queue_args())
            db.session.commit()
            flash(ngettext("%(num)d message queued.", "%(num)d messages queued.",
                           len(recipients)), "success")
            return redirect(url_for("dashboard.bulk_email"))
        sample = recipients[0] if recipients else None
        preview = render_template(
            "email/bulk_message.txt", subject=form.subject.data, body=form.body.data,
            name=services.greeting_name(sample) if sample else _("Name of the teacher"))
        return render_template("dashboard/email_preview.html", form=form,
                               recipients=recipients, preview=preview)
    return render_template("dashboard/email.html", form=form)


from course_portal.dashboard import audit_views  # noqa: E402,F401 (the audit log's routes)
