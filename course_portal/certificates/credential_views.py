"""The certificates as Open Badges 3.0 credentials: downloads, the DID document, the status
list, and checking a credential on /verify (see certificates.credentials)."""

from __future__ import annotations

from typing import NoReturn

from flask import Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from course_portal.certificates import credential_check, credentials
from course_portal.certificates.forms import VerifyCredentialForm
from course_portal.certificates.models import Certificate
from course_portal.certificates.verify_views import FORM_OVERHEAD_BYTES
from course_portal.certificates.views import (
    bp,
    by_code_or_404,
    get_certificate_or_404,
    verify_limit,
)
from course_portal.core.permissions import public
from course_portal.core.web import form_view
from course_portal.enrollment.documents import clean_filename
from course_portal.extensions import db, limiter


def _unavailable() -> NoReturn:
    abort(503, description=_("Digital credentials are not issued here yet: the portal has no "
                             "signing key. Download the PDF instead."))


def _jwt_response(token: str, *, filename: str | None, private: bool) -> Response:
    response = Response(token, mimetype=credentials.MEDIA_TYPE)
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store" if private else "no-cache"
    return response


@bp.route("/certificates/<int:certificate_id>/credential")
@login_required
def download_credential(certificate_id: int):
    """The teacher's certificate as a signed Open Badges 3.0 credential (a .jwt file)."""
    certificate = get_certificate_or_404(certificate_id, current_user)
    token = credentials.credential_jwt(certificate)
    if token is None:
        _unavailable()
    return _jwt_response(token, filename=credentials.credential_filename(certificate),
                         private=True)


@bp.route("/verify/<code>/credential")
@public
@verify_limit
def verify_credential_file(code: str):
    """The credential of the certificate whose verification page this is, for its verifiers."""
    certificate = by_code_or_404(code)
    token = credentials.credential_jwt(certificate)
    if token is None:
        _unavailable()
    return _jwt_response(token, filename=credentials.credential_filename(certificate),
                         private=False)


@bp.route("/.well-known/did.json")
@bp.route("/did.json")
@public
@verify_limit
def did_document():
    """The issuer's DID document (did:web): the public keys that sign the credentials."""
    response = jsonify(credentials.did_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/credentials/status/<int:number>")
@public
@verify_limit
def status_list(number: int):
    """Status list credential number n: which credentials are revoked, as of this request."""
    last_id = db.session.scalar(select(func.max(Certificate.id))) or 0
    if number > last_id // credentials.STATUS_LIST_SIZE:
        abort(404)
    token = credentials.status_list_jwt(number)
    if token is None:
        _unavailable()
    response = _jwt_response(token, filename=None, private=False)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _credential_limit() -> str:
    return current_app.config["UPLOAD_RATE_LIMIT"]


@bp.route("/verify/credential", methods=["GET", "POST"])
@public
@verify_limit
@limiter.limit(_credential_limit, methods=["POST"], scope="certificates.verify_credential")
@form_view
def verify_credential():
    """A credential pasted or uploaded on /verify: which certificate it states, if any."""
    if request.method == "GET":
        return redirect(url_for(".verify") + "#check-credential")
    request.max_content_length = credentials.MAX_CREDENTIAL_BYTES * 2 + FORM_OVERHEAD_BYTES
    form = VerifyCredentialForm()
    answer = refusal = None
    filename = ""
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if upload is not None and getattr(upload, "filename", None):
                filename = clean_filename(upload.filename, fallback="")
                answer = credential_check.check_token(
                    credential_check.read_text(credential_check.read_upload(upload.stream)))
            else:
                answer = credential_check.check_text(form.credential.data or "")
        except credentials.CredentialRefused as refused:
            refusal = refused.message
    return render_template("certificates/verify_credential.html", form=form, answer=answer,
                           refusal=refusal, filename=filename)


@bp.context_processor
def _credential_helpers():
    return {"credentials_available": credentials.available}


@bp.route("/verify/how")
@public
@verify_limit
def verify_how():
    """How to check a certificate without the portal: a PDF reader, SHA-256, a verifier."""
    from course_portal.certificates.snapshot import (
        UNIVERSITY_NAME_EN,
        UNIVERSITY_NAME_RU,
        UNIVERSITY_NAME_ZH,
    )

    return render_template(
        "certificates/verify_how.html", did=credentials.issuer_did(),
        did_url=credentials.base_url() + credentials.did_document_path(),
        example_number="IE-2026-0003", university_en=UNIVERSITY_NAME_EN,
        university_ru=UNIVERSITY_NAME_RU, university_zh=UNIVERSITY_NAME_ZH)
