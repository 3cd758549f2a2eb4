"""Coordinators add and disable liaisons; the new liaison chooses a password from the email."""

from __future__ import annotations

import re

from sqlalchemy import select

from course_portal.accounts.models import Role, User
from course_portal.core.audit import AuditEvent
from course_portal.core.outbox import OutboxMessage
from tests import factories
from tests.partners.helpers import make_liaison, make_staff, sign_in


def _mails(db, to: str) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == to).order_by(OutboxMessage.id)))


def test_coordinator_adds_a_liaison_who_is_mailed_a_password_link(client, db):
    partner = factories.make_partner(name_en="Datong University")
    coordinator = sign_in(client, make_staff("coordinator"))

    response = client.post("/partner/manage", data={
        "partner": str(partner.id), "email": "Liaison@Datong.example.edu.cn",
        "display_name": "张老师", "locale": "zh"})

    assert response.status_code == 302
    liaison = db.session.scalar(select(User).where(User.email == "liaison@datong.example.edu.cn"))
    assert liaison.role == Role.PARTNER_LIAISON
    assert liaison.partner_university_id == partner.id
    assert liaison.locale == "zh" and liaison.is_enabled and liaison.email_confirmed_at is None
    mails = _mails(db, liaison.email)
    assert [m.kind for m in mails] == ["partner.liaison_added", "account.reset"]
    # in the liaison's language: the university by its Chinese name
    assert partner.name_zh in mails[0].body_text
    assert "http://portal.test/login" in mails[0].body_text
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "partner.liaison_added"))
    assert event.actor_id == coordinator.id and event.object_id == liaison.id
    page = client.get("/partner/manage").get_data(as_text=True)
    assert "liaison@datong.example.edu.cn" in page and "Has not chosen a password yet" in page

    # the link in the second email sets the password and confirms the address
    link = re.search(r"http://portal\.test(/password/reset/\S+)", mails[1].body_text).group(1)
    client.post("/logout")
    response = client.post(link, data={"new_password": "a new password for the liaison",
                                       "new_password_confirm": "a new password for the liaison"})
    assert response.status_code == 302
    db.session.refresh(liaison)
    assert liaison.email_confirmed_at is not None


def test_an_address_already_in_use_is_refused_on_the_form(client, db):
    partner = factories.make_partner()
    factories.make_user(email="taken@example.edu.cn")
    sign_in(client, make_staff("admin"))

    response = client.post("/partner/manage", data={
        "partner": str(partner.id), "email": "taken@example.edu.cn", "display_name": "Li",
        "locale": "en"})

    assert response.status_code == 200
    assert "An account with this email address already exists." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.role == Role.PARTNER_LIAISON)) is None


def test_disabling_a_liaison_ends_their_access(client, db, make_app):
    partner = factories.make_partner()
    liaison = make_liaison(partner)
    sign_in(client, liaison)
    assert client.get("/partner/").status_code == 200
    coordinator_client = client.application.test_client()
    sign_in(coordinator_client, make_staff("coordinator"))

    response = coordinator_client.post(f"/partner/manage/liaisons/{liaison.id}/disable")

    assert response.status_code == 302
    db.session.refresh(liaison)
    assert not liaison.is_enabled
    assert client.get("/partner/").status_code == 302  # the session has ended
    assert "Disabled" in coordinator_client.get("/partner/manage").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "partner.liaison_disabled")) is not None


def test_only_liaisons_can_be_disabled_here(client, db):
    teacher = factories.make_user()
    sign_in(client, make_staff("coordinator"))

    assert client.post(f"/partner/manage/liaisons/{teacher.id}/disable").status_code == 404
    db.session.refresh(teacher)
    assert teacher.is_enabled


def test_teachers_and_liaisons_cannot_manage_liaisons(client, db):
    partner = factories.make_partner()
    for user in (factories.make_user(), make_liaison(partner)):
        sign_in(client, user)
        assert client.get("/partner/manage").status_code == 403
        assert client.post("/partner/manage", data={
            "partner": str(partner.id), "email": "new@example.edu.cn", "display_name": "X",
            "locale": "en"}).status_code == 403
    assert db.session.scalar(select(User).where(User.email == "new@example.edu.cn")) is None


def test_cli_adds_a_liaison(app, db):
    partner = factories.make_partner(name_en="Harbin Cambridge University")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=[
        "partners", "add-liaison", "hr@hcu.example.edu.cn", "--partner", str(partner.id),
        "--name", "刘老师", "--locale", "zh"])

    assert result.exit_code == 0, result.output
    assert "Harbin Cambridge University" in result.output
    liaison = db.session.scalar(select(User).where(User.email == "hr@hcu.example.edu.cn"))
    assert liaison.role == Role.PARTNER_LIAISON and liaison.partner_university_id == partner.id
    assert liaison.display_name == "刘老师"


def test_cli_refuses_an_unknown_university_and_a_bad_address(app, db):
    partner = factories.make_partner()
    db.session.commit()
    runner = app.test_cli_runner()

    unknown = runner.invoke(args=["partners", "add-liaison", "hr@example.edu.cn",
                                  "--partner", "999999", "--name", "X"])
    bad = runner.invoke(args=["partners", "add-liaison", "not an address",
                              "--partner", str(partner.id), "--name", "X"])

    assert unknown.exit_code == 1
    assert "Choose a university from the list." in unknown.output
    assert bad.exit_code == 1
    assert "This is not a valid email address." in bad.output
    assert db.session.scalar(select(User).where(User.role == Role.PARTNER_LIAISON)) is None
