"""Certificates, the public and teacher side: verification by code or number, my certificates."""

from __future__ import annotations

import io
import re

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role, User
from course_portal.certificates import pdfs, services
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.certificates.pdf import RESULT_LABELS
from course_portal.certificates.snapshot import study_form_words
from course_portal.core.i18n import current_language
from course_portal.core.pagecache import cached_page
from course_portal.core.permissions import public
from course_portal.enrollment.models import Application
from course_portal.extensions import db, limiter

bp = Blueprint("certificates", __name__)

#: what a verification code looks like (secrets.token_urlsafe); anything else is not looked up
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
VERIFY_ENDPOINTS = frozenset({"certificates.verify", "certificates.verify_code",
                              "certificates.verify_json", "certificates.verify_file",
                              "certificates.verify_png",
                              "certificates.verify_credential",
                              "certificates.verify_credential_file",
                              "certificates.verify_how"})
#: a certificate's status as the page, the JSON and the README say it
PUBLIC_STATUS = {CertificateStatus.ISSUED: "valid", CertificateStatus.REVOKED: "revoked",
                 CertificateStatus.SUPERSEDED: "superseded"}
#: a registry number as typed: IE-2026-0001, any case, spaces around
NUMBER_PATTERN = re.compile(r"[A-Za-z0-9]{1,10}-\d{4}-\d{1,6}")


def _verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


#: one budget for the three public pages, per client address
verify_limit = limiter.shared_limit(_verify_limit, scope="certificates.verify")


@bp.after_request
def _not_indexed(response):
    """Verification pages are for the holder's reader, not for search engines."""
    if request.endpoint in VERIFY_ENDPOINTS:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.context_processor
def _certificate_helpers():
    return {"certificate_status": services.status_label, "result_label": result_label,
            "study_form_label": study_form_label}


def result_label(code: str) -> str:
    """The result code in the reader's language (the certificate prints all three)."""
    labels = RESULT_LABELS.get(code)
    if not labels:
        return code
    return labels.get(current_language(), labels["en"])


def study_form_label(snapshot: dict) -> str:
    """The form of study a certificate printed, in the reader's language (Russian otherwise)."""
    words = study_form_words(snapshot.get("study_form", ""), snapshot.get("delivery", ""))
    return words.get(current_language()) or words["ru"]


# --- loaders --------------------------------------------------------------------------------


def can_download(certificate: Certificate, viewer: User | None) -> bool:
    """The teacher the certificate belongs to, and coordinators and admins."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return (certificate.application.teacher_id == viewer.id
            or viewer.has_role(Role.COORDINATOR))


def get_certificate_or_404(certificate_id: int, viewer: User | None) -> Certificate:
    """The certificate if the viewer may download it; 404 otherwise (no existence leak)."""
    certificate = db.session.get(
        Certificate, certificate_id, options=[selectinload(Certificate.application)]
    )
    if certificate is None or not can_download(certificate, viewer):
        abort(404)
    return certificate


def by_code_or_404(code: str) -> Certificate:
    """The certificate with this verification code, or 404."""
    if not CODE_PATTERN.fullmatch(code):
        abort(404)
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.verification_code == code)
        .options(selectinload(Certificate.replaces), selectinload(Certificate.replaced_by))
    )
    if certificate is None:
        abort(404)
    return certificate


def find_certificate(query: str) -> Certificate | None:
    """The certificate a visitor typed: its registry number (any case) or verification code."""
    query = query.strip()
    if NUMBER_PATTERN.fullmatch(query):
        return db.session.scalar(
            select(Certificate).where(func.upper(Certificate.registry_number) == query.upper())
        )
    if CODE_PATTERN.fullmatch(query):
        return db.session.scalar(select(Certificate).where(Certificate.verification_code == query))
    return None


def pdf_filename(certificate: Certificate) -> str:
    """IE-2026-0001 欧阳娜娜 OUYANG Nana.pdf: readable, no path separators or controls."""
    snapshot = certificate.snapshot
    parts = [certificate.registry_number, snapshot.get("name_zh", ""),
             snapshot.get("name_latin", "")]
    name = " ".join(p for p in parts if p)
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\:*?"<>|')
    return f"{name.strip()[:150]}.pdf"


def send_pdf(certificate: Certificate):
    """The stored PDF as a download; werkzeug writes filename and RFC 6266 filename*.

    A certificate whose PDF a stopped process did not make gets it made now; while it cannot
    be made the answer is 503 with a retry hint, never a broken file.
    """
    pdf = pdfs.pdf_bytes(certificate)
    if pdf is None:
        abort(503, description=_("The PDF of this certificate is still being made. Please "
                                 "try again in a few minutes."))
    response = send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf_filename(certificate),
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-SHA256"] = certificate.pdf_sha256
    return response


# --- public verification --------------------------------------------------------------------


def public_record(certificate: Certificate) -> dict:
    """What the verification page and its JSON show: the snapshot, the status, the checksum."""
    replaced_by, replaces = certificate.replaced_by, certificate.replaces
    return {
        "registry_number": certificate.registry_number,
        # one vocabulary with the page and the registry: valid, revoked, superseded
        "status": PUBLIC_STATUS[certificate.status],
        "valid": certificate.status == CertificateStatus.ISSUED,
        "issued_at": certificate.issued_at.isoformat(),
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "revoked_reason": certificate.revoked_reason or None,
        "superseded_at": (certificate.superseded_at.isoformat()
                          if certificate.superseded_at else None),
        "superseded_by": {
            "registry_number": replaced_by.registry_number,
            "verify_url": services.verify_url(replaced_by.verification_code),
        } if replaced_by is not None else None,
        "replaces": {
            "registry_number": replaces.registry_number,
            "verify_url": services.verify_url(replaces.verification_code),
        } if replaces is not None else None,
        "reissue_reason": certificate.reissue_reason or None,
        "pdf_sha256": certificate.pdf_sha256,
        "is_signed": certificate.is_signed,
        "certificate": dict(certificate.snapshot),
        # what the PDF's hours are: certificates of layout 1 printed the teacher's credited hours
        "hours_printed": ("programme_volume"
                          if int(certificate.snapshot.get("layout_version", 1)) >= 2
                          else "credited_hours"),
        "verify_url": services.verify_url(certificate.verification_code),
    }


@bp.route("/verify")
@public
@verify_limit
def verify():
    """Type a registry number or a verification code; a match opens its page."""
    query = request.args.get("q", "").strip()[:100]
    not_found = False
    if query:
        certificate = find_certificate(query)
        if certificate is not None:
            return redirect(url_for(".verify_code", code=certificate.verification_code))
        not_found = True
    return render_template("certificates/verify.html", query=query, not_found=not_found), (
        404 if not_found else 200)


@bp.route("/verify/<code>.json")
@public
@verify_limit
def verify_json(code: str):
    """The verification record as JSON, for machines."""
    response = jsonify(public_record(by_code_or_404(code)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/verify/<code>")
@public
@verify_limit
@cached_page
def verify_code(code: str):
    """Every field the certificate states, its status and its PDF's SHA-256."""
    certificate = by_code_or_404(code)
    return render_template("certificates/verify_certificate.html", certificate=certificate,
                           record=public_record(certificate), s=certificate.snapshot)


# --- the teacher's certificates -------------------------------------------------------------


@bp.route("/certificates")
@login_required
def mine():
    """The signed-in teacher's certificates, newest first, with their downloads."""
    certificates = list(db.session.scalars(
        select(Certificate).join(Application, Application.id == Certificate.application_id)
        .where(Application.teacher_id == current_user.id)
        .options(selectinload(Certificate.replaced_by))
        .order_by(Certificate.id.desc())
    ))
    return render_template("certificates/mine.html", certificates=certificates)


@bp.route("/certificates/<int:certificate_id>/pdf")
@login_required
def download(certificate_id: int):
    """The stored PDF, byte for byte as issued, for its teacher or a coordinator."""
    return send_pdf(get_certificate_or_404(certificate_id, current_user))


from course_portal.certificates import (  # noqa: E402,F401 (routes on bp)
    credential_views,
    issuer_views,
    manage_views,
    verify_views,
)
