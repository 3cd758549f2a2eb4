"""Certificates, the coordinators' side: issue, bulk issue, revoke, re-issue, downloads, registry."""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from course_portal.accounts import profiles as accounts_profiles
from course_portal.accounts.models import Role
from course_portal.accounts.palladius import suggestion_for
from course_portal.catalog.loaders import get_intake_or_404
from course_portal.catalog.models import Intake
from course_portal.certificates import frdo, jobs, pdfs, registry, requirements, services
from course_portal.certificates.forms import (
    FrdoExportForm,
    IssueForm,
    ReissueForm,
    RevokeForm,
    RussianNameForm,
)
from course_portal.certificates.models import Certificate, CertificateStatus, IssueBatch
from course_portal.certificates.pdf import CertificateError
from course_portal.certificates.views import bp, pdf_filename, public_record
from course_portal.core.clock import portal_today
from course_portal.core.jobs import enqueue
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view
from course_portal.enrollment.models import Application
from course_portal.extensions import db

C = CertificateStatus
log = logging.getLogger(__name__)


def _certificate_or_404(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    return certificate


def _actor():
    return current_user._get_current_object()


def _valid_of_intake(intake_id: int, with_pdf: bool = False) -> list[Certificate]:
    """The intake's valid certificates by registry number."""
    query = (
        select(Certificate).join(Application, Application.id == Certificate.application_id)
        .where(Application.intake_id == intake_id, Certificate.status == C.ISSUED)
        .order_by(Certificate.year, Certificate.sequence)
    )
    if with_pdf:
        query = query.options(undefer(Certificate.pdf))
    return list(db.session.scalars(query))


@bp.route("/certificates/manage")
@role_required(Role.COORDINATOR)
def manage_index():
    """Intakes with how many certificates each has, newest first."""
    counts = dict(db.session.execute(
        select(Application.intake_id, func.count(Certificate.id))
        .join(Certificate, Certificate.application_id == Application.id)
        .where(Certificate.status == C.ISSUED)
        .group_by(Application.intake_id)
    ).all())
    intakes = list(db.session.scalars(
        select(Intake).options(selectinload(Intake.program)).order_by(Intake.starts_on.desc())
    ))
    return render_template("certificates/manage/index.html", intakes=intakes, counts=counts)


@bp.route("/certificates/manage/intakes/<int:intake_id>")
@role_required(Role.COORDINATOR)
def manage_intake(intake_id: int):
    """The intake's teachers: eligibility, certificate, issue one or all."""
    from course_portal.progress.services import eligibilities, roster_applications

    intake = get_intake_or_404(intake_id)
    applications = roster_applications(intake, [s.value for s in services.CERTIFIABLE])
    verdicts = eligibilities(intake, applications)
    held = {c.application_id: c for c in _valid_of_intake(intake.id)}
    blocked = services.intake_refusals(intake)
    rows: list[dict[str, Any]] = [
        {"application": a, "eligibility": verdicts[a.id], "certificate": held.get(a.id),
         "reasons": services.refusal_reasons(a, verdicts[a.id], teacher_only=True),
         "missing": [label for _, label in requirements.profile_gaps(a.teacher.profile)]}
        for a in applications
    ]
    ready = [r for r in rows if not r["reasons"] and r["certificate"] is None]
    lacking = sum(1 for r in rows if r["missing"] and r["certificate"] is None
                  and r["eligibility"].eligible)
    return render_template(
        "certificates/manage/intake.html", intake=intake, rows=rows,
        issuable=0 if blocked else len(ready), blocked=blocked, lacking=lacking,
        batch=jobs.latest_batch(intake.id), held=len(held), form=IssueForm(),
    )


@bp.route("/certificates/manage/applications/<int:application_id>/name-ru",
          methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def russian_name(application_id: int):
    """Set or correct the Cyrillic name a teacher's certificate will print."""
    application = db.session.get(Application, application_id)
    if application is None or application.teacher.profile is None:
        abort(404)
    teacher = application.teacher
    form = RussianNameForm(obj=teacher.profile)
    if request.method == "GET" and not form.name_ru.data:
        form.name_ru.data = suggestion_for(teacher.profile)
    if form.validate_on_submit():
        accounts_profiles.set_russian_name(teacher, form.name_ru.data or "", actor=_actor())
        db.session.commit()
        flash(_("The name in Cyrillic is saved."), "success")
        return redirect(url_for(".manage_intake", intake_id=application.intake_id))
    return render_template("certificates/manage/russian_name.html", form=form,
                           application=application, profile=teacher.profile), (
        400 if form.errors else 200)


@bp.route("/certificates/manage/intakes/<int:intake_id>/ask-profiles", methods=["POST"])
@role_required(Role.COORDINATOR)
@form_view
def ask_profiles(intake_id: int):
    """Email each eligible teacher whose profile lacks what a certificate needs."""
    intake = get_intake_or_404(intake_id)
    back = url_for(".manage_intake", intake_id=intake.id)
    if not IssueForm().validate_on_submit():
        flash(_("This form had expired. Press the button again."), "warning")
        return redirect(back)
    asked = services.ask_for_profile_data(intake, _actor())
    db.session.commit()
    flash(ngettext("%(num)d teacher was emailed what to add to the profile.",
                   "%(num)d teachers were emailed what to add to their profiles.", asked),
          "success" if asked else "info")
    return redirect(back)


@bp.route("/certificates/manage/applications/<int:application_id>/issue", methods=["POST"])
@role_required(Role.COORDINATOR)
@form_view
def issue(application_id: int):
    """Issue one teacher's certificate."""
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    back = url_for(".manage_intake", intake_id=application.intake_id)
    if not IssueForm().validate_on_submit():
        flash(_("This form had expired. Press the button again."), "warning")
        return redirect(back)
    try:
        certificate = services.issue_certificate(application, _actor())
        number = certificate.registry_number
        db.session.commit()
    except (services.CertificateRefused, CertificateError) as exc:
        db.session.rollback()
        flash(services.certificate_error_text(exc), "error")
        return redirect(back)
    if not certificate.pdf_size:
        flash(_("Certificate %(number)s is issued, but its PDF could not be made yet. The portal "
                "tries again every few minutes; the log says why.", number=number), "warning")
    else:
        flash(_("Certificate %(number)s issued.", number=number), "success")
    return redirect(back)


@bp.route("/certificates/manage/intakes/<int:intake_id>/issue-all", methods=["POST"])
@role_required(Role.COORDINATOR)
@form_view
def issue_all(intake_id: int):
    """Issue every eligible teacher's certificate as a background job."""
    intake = get_intake_or_404(intake_id)
    if not IssueForm().validate_on_submit():
        flash(_("This form had expired. Press the button again."), "warning")
        return redirect(url_for(".manage_intake", intake_id=intake.id))
    blocked = services.intake_refusals(intake)
    if blocked:
        for message in blocked:
            flash(message, "error")
        return redirect(url_for(".manage_intake", intake_id=intake.id))
    batch = jobs.start_batch(intake, _actor())
    batch_id = batch.id
    db.session.commit()
    try:
        jobs.enqueue_batch(batch)
    except Exception:  # Redis unreachable: say so instead of leaving a batch queued forever
        log.exception("could not queue certificate batch %s", batch_id)
        db.session.rollback()
        jobs.mark_failed(batch_id)
        flash(_("The background job could not be started. Try again in a minute."), "error")
    return redirect(url_for(".batch", batch_id=batch_id))


@bp.route("/certificates/manage/batches/<int:batch_id>")
@role_required(Role.COORDINATOR)
def batch(batch_id: int):
    """A bulk issuing's progress; the page reloads itself until it is finished."""
    found = db.session.get(IssueBatch, batch_id, options=[selectinload(IssueBatch.intake)])
    if found is None:
        abort(404)
    stalled = jobs.is_stalled(found)
    response = make_response(render_template("certificates/manage/batch.html", batch=found,
                                             stalled=stalled, form=IssueForm()))
    if not found.is_finished and not stalled:
        # reloads without a script (the CSP allows none inline): the progress bar moves on
        response.headers["Refresh"] = "2"
    return response


@bp.route("/certificates/manage/batches/<int:batch_id>/resume", methods=["POST"])
@role_required(Role.COORDINATOR)
@form_view
def resume_batch(batch_id: int):
    """Run a batch whose job stopped again: it issues to those who still have no certificate."""
    if db.session.get(IssueBatch, batch_id) is None:
        abort(404)
    page = url_for(".batch", batch_id=batch_id)
    if not IssueForm().validate_on_submit():
        flash(_("This form had expired. Press the button again."), "warning")
        return redirect(page)
    if not jobs.reopen_batch(batch_id):
        flash(_("This batch is still running or has finished; there is nothing to resume."),
              "info")
        return redirect(page)
    try:
        jobs.enqueue_batch(db.session.get_one(IssueBatch, batch_id))  # found above
    except Exception:  # Redis unreachable: say so instead of leaving a batch queued forever
        log.exception("could not queue certificate batch %s again", batch_id)
        db.session.rollback()
        jobs.mark_failed(batch_id)
        flash(_("The background job could not be started. Try again in a minute."), "error")
    return redirect(page)


@bp.route("/certificates/manage/certificates/<int:certificate_id>")
@role_required(Role.COORDINATOR)
def manage_certificate(certificate_id: int):
    """One certificate: its record, and revoke or re-issue."""
    return _render_certificate(_certificate_or_404(certificate_id), RevokeForm(prefix="revoke"),
                               ReissueForm(prefix="reissue"))


def _render_certificate(certificate, revoke_form, reissue_form, status: int = 200):
    return render_template(
        "certificates/manage/certificate.html", certificate=certificate,
        record=public_record(certificate), s=certificate.snapshot,
        revoke_form=revoke_form, reissue_form=reissue_form,
    ), status


@bp.route("/certificates/manage/certificates/<int:certificate_id>/revoke", methods=["POST"])
@role_required(Role.COORDINATOR)
@form_view
def revoke(certificate_id: int):
    """Revoke with a reason."""
    certificate = _certificate_or_404(certificate_id)
    form = RevokeForm(prefix="revoke")
    if form.validate_on_submit():
        try:
            services.revoke(certificate, _actor(), form.reason.data or "")
            number = certificate.registry_number
            db.session.commit()
        except services.CertificateRefused as exc:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, *exc.messages]
        else:
            flash(_("Certificate %(number)s revoked.", number=number), "success")
            return redirect(url_for(".manage_certificate", certificate_id=certificate_id))
    return _render_certificate(certificate, form, ReissueForm(prefix="reissue"), 400)


@bp.route("/certificates/manage/certificates/<int:certificate_id>/reissue", methods=["POST"])
@role_required(Role.COORDINATOR)
@form_view
def reissue(certificate_id: int):
    """Re-issue after a correction; the new certificate names this one."""
    certificate = _certificate_or_404(certificate_id)
    form = ReissueForm(prefix="reissue")
    if form.validate_on_submit():
        try:
            new = services.reissue(certificate, _actor(), form.reason.data or "")
            new_id, number = new.id, new.registry_number
            db.session.commit()
        except (services.CertificateRefused, CertificateError) as exc:
            db.session.rollback()
            certificate = _certificate_or_404(certificate_id)
            form.reason.errors = [*form.reason.errors, services.certificate_error_text(exc)]
        else:
            flash(_("Certificate %(number)s issued; it replaces %(old)s.",
                    number=number, old=certificate.registry_number), "success")
            return redirect(url_for(".manage_certificate", certificate_id=new_id))
    return _render_certificate(certificate, RevokeForm(prefix="revoke"), form, 400)


# --- downloads ------------------------------------------------------------------------------


@bp.route("/certificates/manage/intakes/<int:intake_id>/certificates.zip")
@role_required(Role.COORDINATOR)
def intake_zip(intake_id: int):
    """The intake's valid certificates as one ZIP, each under a readable name."""
    intake = get_intake_or_404(intake_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for certificate in _valid_of_intake(intake.id, with_pdf=True):
            pdf = pdfs.pdf_bytes(certificate)
            if pdf is not None:  # one still being made is in the next download
                archive.writestr(pdf_filename(certificate), pdf)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True,
                     download_name=f"{intake.program.code} {intake.title}.zip", max_age=0)


@bp.route("/certificates/manage/intakes/<int:intake_id>/certificates.pdf")
@role_required(Role.COORDINATOR)
def intake_pdf(intake_id: int):
    """The intake's valid certificates merged into one PDF, for printing."""
    from pypdf import PdfReader, PdfWriter

    intake = get_intake_or_404(intake_id)
    certificates = _valid_of_intake(intake.id, with_pdf=True)
    if not certificates:
        flash(_("This intake has no valid certificates yet."), "warning")
        return redirect(url_for(".manage_intake", intake_id=intake.id))
    writer = PdfWriter()
    for certificate in certificates:
        pdf = pdfs.pdf_bytes(certificate)
        if pdf is not None:  # one still being made is in the next download
            writer.append(PdfReader(io.BytesIO(pdf)))
    buffer = io.BytesIO()
    writer.write(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{intake.program.code} {intake.title} (print).pdf", max_age=0)


@bp.route("/certificates/manage/registry")
@role_required(Role.COORDINATOR)
def registry_page():
    """Every certificate with its status, by program, year and number; the FRDO export's form."""
    today = portal_today()
    form = FrdoExportForm(formdata=None, start=today.replace(month=1, day=1), end=today)
    return render_template("certificates/manage/registry.html",
                           certificates=registry.registry_certificates(), frdo_form=form,
                           credited=len(jobs.printed_credited_hours()))


@bp.route("/certificates/manage/registry/frdo.xlsx")
@role_required(Role.COORDINATOR)
def frdo_xlsx():
    """The certificates of a period as rows of the federal register's template."""
    form = FrdoExportForm(request.args)
    if not form.validate():
        return render_template("certificates/manage/registry.html",
                               certificates=registry.registry_certificates(), frdo_form=form,
                               credited=len(jobs.printed_credited_hours())), 400
    start, end = form.start.data, form.end.data
    assert start is not None and end is not None  # the form requires both
    certificates = frdo.frdo_certificates(start, end)
    body = frdo.frdo_xlsx(certificates)
    frdo.record_export(_actor(), start, end, len(certificates))
    db.session.commit()
    return Response(body, mimetype=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), headers={
        "Content-Disposition": f"attachment; filename=frdo-{start.isoformat()}-{end.isoformat()}.xlsx",
        "Cache-Control": "private, no-store",
    })


@bp.route("/certificates/manage/credited-hours", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def credited_hours():
    """Valid certificates that printed the teacher's credited hours; re-issue them at once."""
    found = jobs.printed_credited_hours()
    form = IssueForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("This form had expired. Press the button again."), "warning")
            return redirect(url_for(".credited_hours"))
        chosen = {int(v) for v in request.form.getlist("certificate") if v.isdigit() and len(v) < 12}
        ids = [c.id for c in found if c.id in chosen]
        if not ids:
            flash(_("Choose the certificates to re-issue."), "warning")
            return redirect(url_for(".credited_hours"))
        jobs.start_reissue(ids, _actor())
        db.session.commit()
        try:
            enqueue(jobs.RUN_REISSUE, ids, current_user.id)
        except Exception:  # Redis unreachable: nothing was re-issued, say so
            log.exception("could not queue the re-issue of %s certificates", len(ids))
            flash(_("The background job could not be started. Try again in a minute."), "error")
            return redirect(url_for(".credited_hours"))
        flash(ngettext("Re-issuing %(num)d certificate. The list below shrinks as it is done.",
                       "Re-issuing %(num)d certificates. The list below shrinks as they are done.",
                       len(ids)), "success")
        return redirect(url_for(".credited_hours"))
    return render_template("certificates/manage/credited_hours.html", certificates=found,
                           form=form, latest=jobs.latest_reissue(),
                           reason=jobs.CREDITED_HOURS_REASON)


@bp.route("/certificates/manage/registry.csv")
@role_required(Role.COORDINATOR)
def registry_csv():
    """The registry as CSV."""
    body = registry.registry_csv(registry.registry_certificates())
    services.record_registry_export(_actor(), "csv")
    db.session.commit()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=certificate-registry.csv",
        "Cache-Control": "private, no-store",
    })


@bp.route("/certificates/manage/registry.xlsx")
@role_required(Role.COORDINATOR)
def registry_xlsx():
    """The registry as an XLSX workbook."""
    body = registry.registry_xlsx(registry.registry_certificates())
    services.record_registry_export(_actor(), "xlsx")
    db.session.commit()
    return Response(body, mimetype=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), headers={
        "Content-Disposition": "attachment; filename=certificate-registry.xlsx",
        "Cache-Control": "private, no-store",
    })
