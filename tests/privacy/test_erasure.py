"""Erasure: asked by the teacher, confirmed by a coordinator or proceeding on its day.

The proof that nothing is left is a search: every column of every row of every table, and every
file under the upload and copy folders, for the teacher's names, address, phone and WeChat ID.
Only the kept registry (the certificates table: the name printed on each certificate) may still
hold the name, and even it holds no address, phone or WeChat ID.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from course_portal.certificates import services as certificate_services
from course_portal.core import audit, clock, steps
from course_portal.core.outbox import OutboxMessage, send_pending
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db
from course_portal.privacy import erasure
from course_portal.privacy import export as exports
from course_portal.privacy.models import ErasureRequest, ErasureStatus
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake, tianshui
from tests.factories import PASSWORD as TEST_PASSWORD
from tests.partners.helpers import make_liaison, sign_in
from tests.privacy.test_export import NANA, with_files

IDENTIFYING = ["nana@tsnu.edu.cn", "+86 138 0013 8000", "nana_wx"]
NAMES = ["欧阳娜娜", "Ouyang", "Оуян Нана", "112-233-445 95"]
KEPT_REGISTRY = {"certificates"}


def everything_stored() -> dict[str, list[str]]:
    """Table -> every row as text, every column of it."""
    found = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(table.select()).all()
        found[table.name] = [
            json.dumps([v.decode("latin-1") if isinstance(v, bytes) else v for v in row],
                       ensure_ascii=False, default=str)
            for row in rows
        ]
    return found


def leftovers(app) -> list[str]:
    """Every place outside the kept registry that still holds something of the teacher."""
    found = []
    for table, rows in everything_stored().items():
        needles = IDENTIFYING + ([] if table in KEPT_REGISTRY else NAMES)
        for text in rows:
            found += [f"{table}: {n}" for n in needles if n.lower() in text.lower()]
    for folder in (app.config["UPLOAD_FOLDER"], app.config["DATA_EXPORT_FOLDER"]):
        for path in Path(folder).rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                found += [f"{path}: {n}" for n in IDENTIFYING + NAMES
                          if n.encode() in content]
    return found


@pytest.fixture
def portal(make_app, smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5,
                   BASE_URL="http://127.0.0.1:8000")
    with app.app_context():
        yield app


@pytest.fixture
def client(portal):
    """The portal's own client (conftest's would build a second app, without the mail server)."""
    return portal.test_client()


@pytest.fixture
def nana(portal):
    """欧阳娜娜 with a certificate, applications in every state, documents, emails, a copy."""
    coordinator = factories.make_user(role="coordinator")
    completed = make_completed(make_finished_intake(), **NANA, snils="112-233-445 95")
    certificate = certificate_services.issue_certificate(completed, coordinator)
    teacher = completed.teacher
    submitted = factories.make_application(
        teacher=teacher, intake=factories.make_intake(factories.make_program(code="DE")),
        status="submitted", motivation="我是欧阳娜娜，教经济学。")
    with_files(submitted)
    full = factories.make_intake(factories.make_program(code="FI"), capacity=1)
    approved = factories.make_application(teacher=teacher, intake=full, status="approved")
    with_files(approved)
    waiting = factories.make_application(intake=full, status="waitlisted")
    draft = factories.make_application(
        teacher=teacher, intake=factories.make_intake(factories.make_program(code="GR")),
        status="draft")
    with_files(draft)
    # what others were sent or shown that names her
    db.session.add(OutboxMessage(to_address=coordinator.email, subject="Digest",
                                 body_text="Waiting: 欧阳娜娜 OUYANG Nana (nana@tsnu.edu.cn)\n"))
    audit.record("profile.corrected", actor=coordinator, teacher=teacher,
                 name_before="欧阳娜娜", phone="+86 138 0013 8000")
    db.session.commit()
    export = exports.request_export(teacher, actor=teacher)
    db.session.commit()
    exports.build_export(export.id)
    return {"teacher": teacher, "coordinator": coordinator, "certificate": certificate,
            "approved": approved, "waiting": waiting, "draft": draft, "submitted": submitted}


def ask(client, teacher, password=TEST_PASSWORD):
    sign_in(client, teacher)
    return client.post("/privacy/erasure", data={"password": password})


def test_confirmed_erasure_leaves_nothing_but_the_registry(portal, client, nana, smtp_server):
    assert leftovers(portal)  # the search finds her before
    teacher_id, draft_id = nana["teacher"].id, nana["draft"].id
    sign_in(client, nana["teacher"])
    page = client.get("/privacy/erasure")
    assert "What is kept" in page.get_data(as_text=True)

    assert ask(client, nana["teacher"], "wrong password").status_code == 200
    assert db.session.scalar(select(ErasureRequest)) is None
    assert ask(client, nana["teacher"]).status_code == 302
    request = db.session.scalar(select(ErasureRequest))
    assert request.status is ErasureStatus.REQUESTED

    sign_in(client, nana["coordinator"])
    listed = client.get("/privacy/erasures").get_data(as_text=True)
    assert "nana@tsnu.edu.cn" in listed
    assert client.post(f"/privacy/erasures/{request.id}/confirm").status_code == 302
    db.session.rollback()
    assert send_pending()["sent"] >= 1
    db.session.expire_all()

    assert leftovers(portal) == []
    assert db.session.get(ErasureRequest, request.id).status is ErasureStatus.DONE
    # the seat she held went to the teacher waiting, through the one door
    assert db.session.get(Application, nana["waiting"].id).status is ApplicationStatus.APPROVED
    assert db.session.get(Application, draft_id) is None
    # the certificate still verifies, with the name printed on it
    verified = client.get(f"/verify/{nana['certificate'].verification_code}")
    assert verified.status_code == 200 and "欧阳娜娜" in verified.get_data(as_text=True)
    # she was told, and the outbox forgot her address once it was sent
    [told] = [m for m in smtp_server.messages if m["To"] == "nana@tsnu.edu.cn"
              and "erased" in m["Subject"]]
    assert "registry" in told.get_content()
    actions = [e.action for e in db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.teacher_id == teacher_id))]
    assert {"erasure.requested", "erasure.confirmed", "erasure.done"} <= set(actions)
    # staff pages that list her still open, naming an erased account
    sign_in(client, nana["coordinator"])
    intake_id = nana["certificate"].application.intake_id
    for url in (f"/review/applications/{nana['certificate'].application_id}",
                f"/progress/manage/intakes/{intake_id}/roster", "/review",
                "/certificates/manage/registry", f"/certificates/manage/intakes/{intake_id}",
                f"/privacy/teachers/{teacher_id}", "/dashboard", "/review/export.csv",
                "/certificates/manage/registry.csv"):
        assert client.get(url).status_code == 200, url
    # her university's liaison no longer finds her among its teachers
    sign_in(client, make_liaison(tianshui()))
    for url in ("/partner/", "/partner/teachers.csv"):
        listed = client.get(url)
        assert listed.status_code == 200, url
        assert "nana_wx" not in listed.get_data(as_text=True)
    # and she cannot sign in any more
    assert client.post("/login", data={"email": "nana@tsnu.edu.cn",
                                       "password": TEST_PASSWORD}).status_code == 200


def test_unconfirmed_it_proceeds_on_its_day_and_can_be_cancelled_before(portal, client, nana):
    ask(client, nana["teacher"])
    request = db.session.scalar(select(ErasureRequest))
    days = portal.config["ERASURE_PROCEEDS_AFTER_DAYS"]
    step = steps.STEPS_BY_NAME["privacy.erase_due"]
    with time_machine.travel(clock.now() + timedelta(days=days - 1), tick=False):
        assert steps.run_step(step, force=True)
        db.session.expire_all()
        assert db.session.get(ErasureRequest, request.id).status is ErasureStatus.REQUESTED
    with time_machine.travel(clock.now() + timedelta(days=days, minutes=1), tick=False):
        assert steps.run_step(step, force=True)
        db.session.expire_all()
        assert db.session.get(ErasureRequest, request.id).status is ErasureStatus.DONE
        # until the last email leaves, the outbox holds its address; then it forgets it
        assert leftovers(portal) == ["outbox_messages: nana@tsnu.edu.cn"]
        db.session.rollback()
        assert send_pending()["sent"] >= 1
        assert leftovers(portal) == []


def test_a_cancelled_request_erases_nothing(portal, client, nana):
    ask(client, nana["teacher"])
    page = client.get("/privacy/erasure").get_data(as_text=True)
    assert "Cancel my request" in page
    assert client.post("/privacy/erasure/cancel").status_code == 302
    with time_machine.travel(clock.now() + timedelta(days=60), tick=False):
        assert steps.run_step(steps.STEPS_BY_NAME["privacy.erase_due"], force=True)
    db.session.expire_all()
    assert db.session.scalar(select(ErasureRequest)).status is ErasureStatus.CANCELLED
    assert db.session.get(type(nana["teacher"]), nana["teacher"].id).email == "nana@tsnu.edu.cn"
    # a cancelled request cannot be confirmed afterwards
    sign_in(client, nana["coordinator"])
    request = db.session.scalar(select(ErasureRequest))
    client.post(f"/privacy/erasures/{request.id}/confirm")
    db.session.expire_all()
    assert db.session.get(ErasureRequest, request.id).status is ErasureStatus.CANCELLED


def test_the_teacher_is_told_what_happens_in_their_language(portal, client, nana):
    nana["teacher"].locale = "ru"
    ask(client, nana["teacher"])
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "erasure_requested"))
    assert message.to_address == "nana@tsnu.edu.cn"
    assert "удал" in message.body_text.lower()
    # its link opens the request page, where it can be cancelled
    assert "/privacy/erasure\n" in message.body_text


def test_only_teachers_ask_and_only_staff_confirm(portal, client, nana):
    sign_in(client, nana["coordinator"])
    assert client.get("/privacy/erasure").status_code == 403
    ask(client, nana["teacher"])
    request = db.session.scalar(select(ErasureRequest))
    assert client.get("/privacy/erasures").status_code == 403
    assert client.post(f"/privacy/erasures/{request.id}/confirm").status_code == 403
    assert erasure.pending_request(nana["teacher"].id) is not None

