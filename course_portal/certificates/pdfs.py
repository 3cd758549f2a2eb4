"""A certificate's PDF, after its row: rendered from the frozen snapshot, signed, stored.

issue_certificate() (certificates.services) commits the number and the row first, then
complete_pdf() makes the PDF in a second transaction. A process that dies between the two
leaves a certificate whose PDF is still to make (pdf_size 0): the timed step
certificates.finish_pdfs finishes it from its snapshot, and so does the first download that
asks for it (pdf_bytes).
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import attributes

from course_portal.certificates import issuer, services
from course_portal.certificates.models import Certificate
from course_portal.certificates.pdf import CertificateError, render_certificate
from course_portal.certificates.pdf import warm_up as build_engine
from course_portal.certificates.snapshot import CertificateSnapshot
from course_portal.db import execute_dml
from course_portal.extensions import db

log = logging.getLogger(__name__)


#: what the specimen rendered while warming up links to (no app is needed to warm up)
WARM_UP_URL = "https://portal.invalid/verify/warm-up"


def warm_up() -> None:
    """pdf.warm_up(), then the specimen rendered once: before a worker forks a work horse per
    job, so that each batch's first certificate does not load what a first render loads
    (the fonts' faces, WeasyPrint's layout and PDF writer: about 250 ms here)."""
    from course_portal.certificates.specimen import specimen_snapshot

    build_engine()
    try:
        render_certificate(specimen_snapshot(), WARM_UP_URL)
    except CertificateError:  # the first certificate will say why; the worker starts anyway
        log.exception("the specimen certificate could not be rendered while warming up")


def _render(snapshot: CertificateSnapshot, code: str, images: dict[str, bytes]
            ) -> tuple[bytes, bool]:
    """The PDF for the snapshot, signed when a key is configured: (bytes, signed)."""
    from course_portal.certificates.signing import (
        long_term,
        sign_pdf,
        signature_words,
        signing_paths,
    )

    pdf = render_certificate(snapshot, services.verify_url(code), images)
    paths = signing_paths(current_app.config)
    if paths is None:
        return pdf, False
    reason, location = signature_words(
        {"ru": snapshot.city_ru, "zh": snapshot.city_zh, "en": snapshot.city_en})
    return sign_pdf(pdf, *paths, reason=reason, location=location,
                    long_term=long_term(current_app.config)), True


def _frozen_images(snapshot: CertificateSnapshot) -> dict[str, bytes] | None:
    """The signature and seal images the snapshot names, from the signatories and seal as they
    are now; None when one of them has been replaced since (its PNG is gone)."""
    wanted = {line.signature_sha256 for line in snapshot.signatories} | {snapshot.seal_sha256}
    wanted.discard("")
    images: dict[str, bytes] = {}
    for row in issuer.all_signatories():
        if row.signature_sha256 in wanted and row.signature_png:
            images[row.signature_sha256] = row.signature_png
    seal_sha256, seal_png = issuer.seal_image()
    if seal_sha256 in wanted and seal_png:
        images[seal_sha256] = seal_png
    return images if wanted <= images.keys() else None


def complete_pdf(certificate: Certificate, images: dict[str, bytes] | None = None) -> bool:
    """Render, sign and store the PDF of a certificate whose row has none yet; True when the
    certificate has its PDF afterwards. The caller commits.

    The PDF is made from the frozen snapshot, so it states what the row states however late
    it is made. When rendering fails the row stays as it is and the failure is logged (the
    step tries again; `flask doctor` lists what is still waiting). Two finishers at once
    store one PDF: the UPDATE takes only a row that still has none.
    """
    if certificate.pdf_size:
        return True
    snapshot = CertificateSnapshot.from_dict(certificate.snapshot)
    if images is None:
        images = _frozen_images(snapshot)
        if images is None:
            log.error("certificate %s: a signature or seal image it names was replaced before "
                      "its PDF was made; an admin restores it or re-issues the certificate",
                      certificate.registry_number)
            return False
    try:
        pdf, signed = _render(snapshot, certificate.verification_code, images)
    except CertificateError as exc:
        log.error("certificate %s: the PDF could not be made: %s", certificate.registry_number,
                  exc)
        return False
    values = {"pdf": pdf, "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
              "pdf_size": len(pdf), "is_signed": signed}
    stored = execute_dml(
        update(Certificate).where(Certificate.id == certificate.id, Certificate.pdf_size == 0)
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount
    if stored:
        for name, value in values.items():
            attributes.set_committed_value(certificate, name, value)
    else:
        db.session.refresh(certificate)  # another finisher stored it first
    return True


def pending_pdfs() -> list[Certificate]:
    """Certificates whose PDF is still to be made, oldest first."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.pdf_size == 0).order_by(Certificate.id)))


def finish_pdfs() -> str:
    """The timed step: make the PDFs that a process stopped before making; one commit each."""
    done = failed = 0
    for certificate in pending_pdfs():
        if complete_pdf(certificate):
            db.session.commit()
            done += 1
        else:
            db.session.rollback()
            failed += 1
    return f"made {done}, still waiting {failed}"


def pdf_bytes(certificate: Certificate) -> bytes | None:
    """The certificate's PDF, made now if a process stopped before making it; None when it
    cannot be made yet."""
    if not certificate.pdf_size:
        if not complete_pdf(certificate):
            db.session.rollback()
            return None
        db.session.commit()
    return certificate.pdf
