"""Issuing in two transactions: the number and the row first, the PDF after.

A process killed between the two leaves an issued certificate whose PDF is still to make; the
timed step (or the first download) makes it under the same number, and no number is lost or
used twice. Two workers no longer take turns on the counter through the render.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from sqlalchemy import select

from course_portal import ROOT
from course_portal.certificates import pdfs, services
from course_portal.certificates.models import Certificate
from course_portal.core import steps
from course_portal.enrollment.models import Application
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import counter, make_completed, make_finished_intake
from tests.certificates.test_jobs_faults import assert_registry_sound, process_env, sign_in

#: the process issues one certificate and is killed as the render begins: after the first
#: transaction's commit, before the PDF exists
CRASH_IN_THE_RENDER = """
import os, signal, sys
from course_portal import create_app
from course_portal.accounts.models import User
from course_portal.certificates import pdfs, services
from course_portal.enrollment.models import Application
from course_portal.extensions import db

def crash(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

pdfs._render = crash
with create_app().app_context():
    application = db.session.get(Application, int(sys.argv[1]))
    services.issue_certificate(application, db.session.get(User, int(sys.argv[2])))
"""


def test_a_process_killed_between_number_and_pdf_leaves_a_row_the_step_finishes(
        make_app, tmp_path):
    app = make_app()
    with app.app_context():
        intake = make_finished_intake()
        first, second = make_completed(intake), make_completed(intake)
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        ids = (first.id, second.id, coordinator.id, intake.program_id)

    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_IN_THE_RENDER, str(ids[0]), str(ids[2])], cwd=ROOT,
        env=process_env(app, tmp_path), capture_output=True, text=True, timeout=120)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    with app.app_context():
        [left] = db.session.scalars(select(Certificate)).all()
        assert (left.sequence, left.pdf_size, left.application_id) == (1, 0, ids[0])
        assert counter(ids[3], left.year) == 1
        number = left.registry_number
        # the verification page knows the certificate already, and says the PDF is coming
        page = app.test_client().get(f"/verify/{left.verification_code}")
        assert page.status_code == 200 and number in page.get_data(as_text=True)
        assert "still being made" in page.get_data(as_text=True)

        # the next certificate takes the next number; the step makes the PDF left to make
        services.issue_certificate(db.session.get(Application, ids[1]),
                                   db.session.get(type(coordinator), ids[2]))
        db.session.commit()
        assert "certificates.finish_pdfs" in steps.run_due()
        db.session.expire_all()
        made = db.session.get(Certificate, left.id)
        assert made.pdf.startswith(b"%PDF") and made.registry_number == number
    assert_registry_sound(app, ids[3], expected=2)


def test_the_first_download_makes_a_missing_pdf(make_app, monkeypatch):
    app = make_app()
    with app.app_context():
        intake = make_finished_intake()
        application = make_completed(intake)
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        monkeypatch.setattr(pdfs, "_render", lambda *a: (_ for _ in ()).throw(
            services.CertificateError("Rendering stopped: the machine ran out of memory")))
        certificate = services.issue_certificate(application, coordinator)
        db.session.commit()
        monkeypatch.undo()
        teacher_id, certificate_id = application.teacher.get_id(), certificate.id

    client = app.test_client()
    sign_in(client, teacher_id)
    response = client.get(f"/certificates/{certificate_id}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    with app.app_context():
        assert db.session.get(Certificate, certificate_id).pdf == response.data


def test_while_the_pdf_cannot_be_made_the_download_says_so(make_app, monkeypatch):
    app = make_app()
    with app.app_context():
        intake = make_finished_intake()
        application = make_completed(intake)
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        monkeypatch.setattr(pdfs, "_render", lambda *a: (_ for _ in ()).throw(
            services.CertificateError("Rendering stopped: injected")))
        certificate = services.issue_certificate(application, coordinator)
        db.session.commit()
        teacher_id, certificate_id = application.teacher.get_id(), certificate.id

    client = app.test_client()
    sign_in(client, teacher_id)
    response = client.get(f"/certificates/{certificate_id}/pdf")
    assert response.status_code == 503
    assert "still being made" in response.get_data(as_text=True)


def test_doctor_names_the_certificates_waiting_for_their_pdf(make_app, monkeypatch):
    from course_portal.ops.doctor import check_certificate_pdfs

    app = make_app()
    with app.app_context():
        intake = make_finished_intake()
        application = make_completed(intake)
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        assert check_certificate_pdfs().status == "OK"
        monkeypatch.setattr(pdfs, "_render", lambda *a: (_ for _ in ()).throw(
            services.CertificateError("Rendering stopped: injected")))
        certificate = services.issue_certificate(application, coordinator)
        db.session.commit()
        check = check_certificate_pdfs()
        assert check.status == "WARN" and certificate.registry_number in check.detail
        monkeypatch.undo()
        assert pdfs.finish_pdfs() == "made 1, still waiting 0"
        assert check_certificate_pdfs().status == "OK"
