"""Consent to processing (152-FZ) and, separately, to the transfer abroad (PIPL art. 39).

Registration records both, each to one version of its text in the page's language; a teacher
without both in force (an older account, a new version, a withdrawal) is asked at sign-in, can
go on without them, and cannot submit an application; coordinators see whether they are in force.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from course_portal.accounts import consent
from course_portal.accounts.consent import Consent, ConsentKind
from course_portal.accounts.models import User
from course_portal.core.audit import AuditEvent
from course_portal.enrollment import services as enrollment
from course_portal.enrollment.errors import EnrollmentError
from course_portal.enrollment.models import ApplicationStatus
from tests import factories
from tests.accounts.helpers import registration, sign_in

BOTH = {"consent_processing": "y", "consent_transfer_abroad": "y"}


def records_of(db, email: str) -> list[Consent]:
    user = db.session.scalar(select(User).where(User.email == email))
    return list(db.session.scalars(select(Consent).where(Consent.user_id == user.id)
                                   .order_by(Consent.kind)))


def in_language(client, language: str) -> None:
    with client.session_transaction() as session:
        session["locale"] = language


def older_teacher(db, **fields) -> User:
    """A teacher registered before consent was asked: no record at all."""
    teacher = factories.make_teacher(consents=False, **fields)
    db.session.commit()
    return teacher


def test_registration_shows_each_text_beside_its_own_checkbox_in_the_readers_language(client, db):
    in_language(client, "zh")
    page = client.get("/register").get_data(as_text=True)
    assert "《中华人民共和国个人信息保护法》第三十九条" in page
    assert "第 152-FZ 号《个人数据法》" in page
    assert "俄罗斯圣彼得堡市理工大街 29 号" in page  # the recipient and its address
    assert page.count('type="checkbox"') == 2
    assert 'name="consent_processing"' in page and 'name="consent_transfer_abroad"' in page

    in_language(client, "ru")
    page = client.get("/register").get_data(as_text=True)
    assert "152-ФЗ «О персональных данных»" in page
    assert "ст. 39" in page
    # the periods the text promises are the portal's settings
    months = client.application.config["DOCUMENT_RETENTION_MONTHS"]
    assert f"удаляются через {months} мес." in page


@pytest.mark.parametrize("left_out", ["consent_processing", "consent_transfer_abroad"])
def test_registration_without_either_consent_is_refused_with_entries_kept(client, db, left_out):
    data = registration()
    data.pop(left_out)
    response = client.post("/register", data=data)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Registration needs this consent" in page
    assert 'value="Ouyang"' in page and 'value="ouyang.nana@example.edu.cn"' in page
    assert db.session.scalar(select(User).where(User.email == data["email"])) is None


def test_registration_records_both_consents_with_version_language_and_audit(client, db):
    in_language(client, "zh")
    response = client.post("/register", data=registration())
    assert response.status_code == 302

    found = records_of(db, "ouyang.nana@example.edu.cn")
    assert [(r.kind, r.version, r.language) for r in found] == [
        (ConsentKind.PROCESSING, 1, "zh"), (ConsentKind.TRANSFER_ABROAD, 1, "zh")]
    assert all(r.given_at is not None and r.withdrawn_at is None for r in found)
    actions = db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "consent.given")).all()
    assert sorted(d["consent"] for d in actions) == ["processing", "transfer_abroad"]


def test_an_older_account_is_asked_at_sign_in_and_can_go_on_without(client, db):
    teacher = older_teacher(db)
    response = sign_in(client, teacher.email, factories.PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/consent?next=")

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Consent to the processing of personal data" in page
    assert "Not now" in page
    # going on without: the catalog, the profile and their data stay open to them
    assert client.get("/").status_code == 200
    profile = client.get("/profile").get_data(as_text=True)
    assert "not given" in profile and "Without both consents you cannot submit" in profile


def test_without_consent_a_draft_is_kept_but_not_submitted(db):
    teacher = older_teacher(db)
    intake = factories.make_intake(factories.make_program())
    application = factories.make_application(teacher=teacher, intake=intake)

    with pytest.raises(EnrollmentError) as refused:
        enrollment.submit(application, teacher)
    assert "Give your consent" in str(refused.value.errors[None][0])
    assert application.status == ApplicationStatus.DRAFT

    consent.give(teacher, [ConsentKind.PROCESSING], "en")
    with pytest.raises(EnrollmentError):  # one of the two is not enough
        enrollment.submit(application, teacher)
    consent.give(teacher, [ConsentKind.TRANSFER_ABROAD], "en")
    enrollment.submit(application, teacher)
    assert application.status == ApplicationStatus.SUBMITTED


def test_the_apply_page_says_what_is_missing_and_links_to_the_consent(client, db):
    teacher = older_teacher(db)
    intake = factories.make_intake(factories.make_program())
    db.session.commit()
    sign_in(client, teacher.email, factories.PASSWORD)

    page = client.get(f"/intakes/{intake.id}/apply").get_data(as_text=True)
    assert "to submit it you need to consent" in page
    assert f"/consent?next=/intakes/{intake.id}/apply" in page


def test_giving_consent_on_the_page_records_it_and_returns(client, db):
    teacher = older_teacher(db)
    sign_in(client, teacher.email, factories.PASSWORD)

    nothing = client.post("/consent", data={"next": "/programs"})
    assert nothing.status_code == 200
    assert "Tick the consent you give" in nothing.get_data(as_text=True)

    response = client.post("/consent", data={**BOTH, "next": "/programs"})
    assert response.headers["Location"] == "/programs"
    assert not consent.missing(teacher.id)
    # signed in again, nothing is asked
    client.post("/logout")
    again = sign_in(client, teacher.email, factories.PASSWORD)
    assert not again.headers["Location"].startswith("/consent")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_the_return_address_stays_on_the_portal(client, db, target):
    teacher = older_teacher(db)
    sign_in(client, teacher.email, factories.PASSWORD)
    response = client.post("/consent", data={**BOTH, "next": target})
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil.example" not in location


def test_a_new_version_asks_again_and_keeps_the_old_record(client, db, monkeypatch):
    teacher = factories.make_teacher()  # agreed to version 1
    db.session.commit()
    monkeypatch.setitem(consent.CURRENT, ConsentKind.TRANSFER_ABROAD, 2)
    monkeypatch.setitem(consent.IN_FORCE_FROM, (ConsentKind.TRANSFER_ABROAD, 2), date(2027, 3, 1))
    monkeypatch.setattr(consent, "text_template",
                        lambda kind, version, language: f"accounts/consent/{kind.value}-v1."
                                                        f"{language}.html")

    assert consent.missing(teacher.id) == [ConsentKind.TRANSFER_ABROAD]
    response = sign_in(client, teacher.email, factories.PASSWORD)
    assert response.headers["Location"].startswith("/consent")
    page = client.get("/consent").get_data(as_text=True)
    assert 'name="consent_transfer_abroad"' in page
    assert 'name="consent_processing"' not in page  # still in force: not asked again

    client.post("/consent", data={"consent_transfer_abroad": "y", "next": "/profile"})
    versions = sorted((r.kind.value, r.version) for r in records_of(db, teacher.email))
    assert versions == [("processing", 1), ("transfer_abroad", 1), ("transfer_abroad", 2)]


def test_withdrawing_stops_applying_shows_to_coordinators_and_can_be_undone(client, db):
    teacher = factories.make_teacher()
    coordinator = factories.make_user(role="coordinator")
    application = factories.make_application(teacher=teacher, status="submitted")
    db.session.commit()
    sign_in(client, teacher.email, factories.PASSWORD)

    assert "Withdraw this consent" in client.get("/profile").get_data(as_text=True)
    response = client.post("/consent/withdraw", data={"kind": "transfer_abroad"})
    assert response.headers["Location"].endswith("/profile#consents")
    assert consent.missing(teacher.id) == [ConsentKind.TRANSFER_ABROAD]
    [withdrawn] = [r for r in records_of(db, teacher.email) if r.withdrawn_at is not None]
    assert withdrawn.kind == ConsentKind.TRANSFER_ABROAD
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "consent.withdrawn")).details["consent"] == "transfer_abroad"
    assert client.post("/consent/withdraw", data={"kind": "everything"}).status_code == 400

    client.post("/logout")
    sign_in(client, coordinator.email, factories.PASSWORD)
    review = client.get(f"/review/applications/{application.id}").get_data(as_text=True)
    assert "In force: version 1" in review  # processing
    assert "Not in force" in review  # the transfer abroad

    client.post("/logout")
    sign_in(client, teacher.email, factories.PASSWORD)
    client.post("/consent", data={"consent_transfer_abroad": "y", "next": "/profile"})
    db.session.expire_all()
    assert not consent.missing(teacher.id)
    assert len(records_of(db, teacher.email)) == 2  # the same record, in force again


def test_every_version_of_a_text_can_be_read_later(client, db):
    in_language(client, "zh")
    page = client.get("/consent/transfer_abroad/v1")
    assert page.status_code == 200
    assert "彼得大帝圣彼得堡理工大学" in page.get_data(as_text=True)
    assert client.get("/consent/transfer_abroad/v9").status_code == 404
    assert client.get("/consent/everything/v1").status_code == 404


def test_staff_are_not_asked(client, db):
    coordinator = factories.make_user(role="coordinator")
    db.session.commit()
    response = sign_in(client, coordinator.email, factories.PASSWORD)
    assert not response.headers["Location"].startswith("/consent")
