"""Checking a certificate's file on /verify, and its share card for messengers and phones."""

from __future__ import annotations

import io
from functools import wraps

from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from course_portal.certificates import filecheck, pdfs, sharecard
from course_portal.certificates.forms import VerifyFileForm
from course_portal.certificates.views import (
    bp,
    by_code_or_404,
    get_certificate_or_404,
    pdf_filename,
    verify_limit,
)
from course_portal.core.permissions import public
from course_portal.core.web import form_view
from course_portal.enrollment.documents import clean_filename
from course_portal.extensions import limiter

#: room for the multipart framing and the CSRF token around a file of the largest size
FORM_OVERHEAD_BYTES = 64 * 1024


def _file_limit() -> str:
    # the budget of other uploads; anonymous here, so per client address
    return current_app.config["UPLOAD_RATE_LIMIT"]


def _memory_stream(*_args, **_kwargs) -> io.BytesIO:
    return io.BytesIO()


def file_in_memory(view):
    """Parse the form in memory, and answer a request over the limit on the page, not with 413.

    Werkzeug spools a file part of more than 500 KB to a temporary file; this request's parts
    stay in memory instead (Request._get_file_stream is werkzeug's hook for exactly this), and
    the request is refused past MAX_FILE_BYTES and the form's framing, so memory stays bounded.
    Placed outside form_view, whose token check is the first to read the form.
    """

    @wraps(view)
    def checked(*args, **kwargs):
        if request.method == "POST":
            request.max_content_length = filecheck.MAX_FILE_BYTES + FORM_OVERHEAD_BYTES
            # Werkzeug's hook for where uploads go: a method to override, here on one request
            request._get_file_stream = _memory_stream  # type: ignore[method-assign]
        try:
            return view(*args, **kwargs)
        except RequestEntityTooLarge:
            return render_template("certificates/verify_file.html", form=None, answer=None,
                                   refusal=filecheck.too_large().message)

    return checked


@bp.route("/verify/file", methods=["GET", "POST"])
@public
@verify_limit
@limiter.limit(_file_limit, methods=["POST"], scope="certificates.verify_file")
@file_in_memory
@form_view
def verify_file():
    """A certificate's PDF, chosen or dropped on /verify: which certificate it is, if any."""
    if request.method == "GET":
        return redirect(url_for(".verify") + "#check-file")
    form = VerifyFileForm()
    answer = refusal = None
    filename = ""
    if form.validate_on_submit():
        upload = form.file.data
        # the name is only a label on the answer, as the reader knows the file
        filename = clean_filename(upload.filename, fallback="")
        try:
            answer = filecheck.check_upload(upload.stream)
        except filecheck.FileRefused as refused:
            refusal = refused.message
    return render_template("certificates/verify_file.html", form=form, answer=answer,
                           refusal=refusal, filename=filename)


@bp.context_processor
def _file_check_helpers():
    return {"max_file_mb": filecheck.MAX_FILE_BYTES // (1024 * 1024),
            "share_width": sharecard.SHARE_WIDTH,
            # an A4 landscape page, as certificates are: the page keeps room for the picture
            "share_height": round(sharecard.SHARE_WIDTH * 210 / 297)}


def _send_card(certificate, width: int, *, download_name: str | None, private: bool):
    if not certificate.pdf_size:
        # never made from a public GET: the PDF is made by its timed step or a download
        abort(503, description=_("The PDF of this certificate is still being made. Please "
                                 "try again in a few minutes."))
    png = sharecard.card_png(certificate, width)
    response = send_file(io.BytesIO(png), mimetype="image/png", as_attachment=False,
                         download_name=download_name, max_age=0)
    # the picture changes only with the status (the band): ask again, cheaply, each time
    response.set_etag(sharecard.card_path(certificate, width).stem)
    response.headers["Cache-Control"] = "private, no-cache" if private else "public, no-cache"
    return response.make_conditional(request)


@bp.route("/verify/<code>.png")
@public
@verify_limit
def verify_png(code: str):
    """The share card: the certificate's first page, 1200 pixels wide, for og:image."""
    return _send_card(by_code_or_404(code), sharecard.SHARE_WIDTH, download_name=None,
                      private=False)


@bp.route("/certificates/<int:certificate_id>/png")
@login_required
def download_png(certificate_id: int):
    """The teacher's certificate as a picture, 2000 pixels wide, shown inline to be saved."""
    certificate = get_certificate_or_404(certificate_id, current_user)
    if not certificate.pdf_size:
        pdfs.pdf_bytes(certificate)  # made now, as for the PDF's download, when it can be
    name = pdf_filename(certificate).removesuffix(".pdf") + ".png"
    return _send_card(certificate, sharecard.FULL_WIDTH, download_name=name, private=True)
