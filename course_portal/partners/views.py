"""The partner liaison's pages, read-only: the university's teachers, one teacher, the exports;
and the coordinators' page that adds and disables liaisons."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from course_portal.accounts.forms import academic_title_choices
from course_portal.accounts.models import Role
from course_portal.certificates import services as certificate_services
from course_portal.certificates.views import send_pdf
from course_portal.core.i18n import current_language
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, options
from course_portal.dashboard import reports
from course_portal.enrollment.labels import funding_name, status_name
from course_portal.extensions import db
from course_portal.partners import queries, services
from course_portal.partners.forms import AddLiaisonForm, DisableLiaisonForm, PartnerFilterForm
from course_portal.partners.loaders import (
    get_certificate_or_404,
    get_teacher_or_404,
    liaison_partner,
)

bp = Blueprint("partners", __name__, url_prefix="/partner")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.context_processor
def _partner_helpers():
    return {
        "status_name": status_name,
        "funding_name": funding_name,
        "certificate_status": certificate_services.status_label,
        "verify_url": certificate_services.verify_url,
        "academic_titles": dict(academic_title_choices()),
    }


def _filter_form(partner_id: int) -> PartnerFilterForm:
    form = PartnerFilterForm(request.args)
    form.intake.choices = options([("", _("All intakes"))] + [
        (intake.id, f"{intake.program.code} · {intake.t('title')}")
        for intake in queries.intake_choices(partner_id)
    ])
    form.reset_invalid()
    return form


# --- the liaison's pages ----------------------------------------------------------------


@bp.get("/")
@role_required(Role.PARTNER_LIAISON)
def home():
    """The university's teachers: applications, progress and certificates, filtered, by page."""
    partner = liaison_partner(current_user)
    form = _filter_form(partner.id)
    filters = form.to_filters()
    page = queries.teachers_page(partner.id, filters, page=form.page.data or 1)

    def page_url(number: int) -> str:
        args: dict[str, Any] = filters.query_args()
        return url_for("partners.home", page=number, **args)

    return render_template("partners/home.html", partner=partner, form=form, filters=filters,
                           page=page, page_url=page_url)


@bp.get("/teachers.<any(csv, xlsx):fmt>")
@role_required(Role.PARTNER_LIAISON)
def export(fmt: str):
    """The filtered list as CSV or XLSX, formulas neutralised, one row per application."""
    partner = liaison_partner(current_user)
    filters = _filter_form(partner.id).to_filters()
    rows = queries.all_teachers(partner.id, filters)
    report = services.teachers_report(partner, rows, current_language())
    body = reports.report_csv(report) if fmt == "csv" else reports.report_xlsx(report, "Teachers")
    services.record_export(current_user, fmt, filters.query_args(), len(report.rows))
    db.session.commit()
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="teachers-{partner.id}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/teachers/<int:teacher_id>")
@role_required(Role.PARTNER_LIAISON)
def teacher(teacher_id: int):
    """One teacher: profile basics, applications and their history, modules, certificates."""
    partner = liaison_partner(current_user)
    found = get_teacher_or_404(teacher_id, current_user)
    return render_template("partners/teacher.html", partner=partner,
                           detail=queries.teacher_detail(found))


@bp.get("/certificates/<int:certificate_id>.pdf")
@role_required(Role.PARTNER_LIAISON)
def certificate_pdf(certificate_id: int):
    """The stored PDF of a valid certificate of one of the university's teachers."""
    certificate = get_certificate_or_404(certificate_id, current_user)
    services.record_download(current_user, certificate)
    db.session.commit()
    return send_pdf(certificate)


# --- coordinators: the liaisons ---------------------------------------------------------


@bp.route("/manage", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def manage():
    """Partner universities and their liaisons; add a liaison, who is mailed a password link."""
    listing = services.partners_with_liaisons()
    form = AddLiaisonForm()
    form.partner.choices = options([("", _("— choose the university —"))] + [
        (partner.id, partner.t("name")) for partner, _liaisons in listing])
    if form.validate_on_submit():
        try:
            liaison = services.add_liaison(
                partner_id=form.partner.data, email=form.email.data or "",
                display_name=form.display_name.data or "", locale=form.locale.data,
                actor=current_user._get_current_object(),
            )
        except services.PartnerError as error:
            db.session.rollback()
            for name, messages in error.errors.items():
                field = form._fields.get(name) if name else None
                target = field.errors if field is not None else form.form_errors
                target.extend(messages)
        else:
            db.session.commit()
            flash(_("%(email)s is added. We have emailed them a link to choose a password.",
                    email=liaison.email), "success")
            return redirect(url_for("partners.manage"))
    return render_template("partners/manage.html", listing=listing, form=form,
                           disable_form=DisableLiaisonForm())


@bp.post("/manage/liaisons/<int:user_id>/disable")
@role_required(Role.COORDINATOR)
def disable(user_id: int):
    """Disable a liaison: they cannot sign in any more, and their sessions end."""
    liaison = services.get_liaison(user_id)
    if liaison is None:
        abort(404)
    form = DisableLiaisonForm()
    if not form.validate_on_submit():
        abort(400)
    services.disable_liaison(liaison, current_user._get_current_object())
    db.session.commit()
    flash(_("%(email)s can no longer sign in.", email=liaison.email), "success")
    return redirect(url_for("partners.manage"))
