"""Bulk email: a preview with the recipients, then one message per teacher in their language."""

from __future__ import annotations

from sqlalchemy import select

from course_portal.core.outbox import OutboxMessage
from tests import factories


def _intake_with_teachers(db):
    intake = factories.make_intake(factories.make_program(code="IE"), title="Spring 2026")
    other = factories.make_intake(factories.make_program(code="IS"), title="Autumn 2026")
    teachers = [
        factories.make_teacher(email="zh@example.edu.cn", locale="zh", family_name_zh="欧阳",
                               given_name_zh="娜娜", family_name_latin="Ouyang",
                               given_name_latin="Nana"),
        factories.make_teacher(email="ru@example.edu.cn", locale="ru"),
        factories.make_teacher(email="en@example.edu.cn", locale="en"),
    ]
    for teacher in teachers:
        factories.make_application(teacher=teacher, intake=intake, status="enrolled")
    factories.make_application(teacher=factories.make_teacher(email="not@example.edu.cn"),
                               intake=other, status="enrolled")
    factories.make_application(teacher=factories.make_teacher(email="sub@example.edu.cn"),
                               intake=intake, status="submitted")
    db.session.commit()
    return intake


def _messages(db):
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.to_address)))


def test_preview_then_send_one_message_per_teacher_in_their_language(client, login_as, db):
    intake = _intake_with_teachers(db)
    login_as("coordinator")
    form = {"intake": intake.id, "audience": "taking", "subject": "Timetable change",
            "body": "Module 3 moves to Friday.\nBring your laptop."}
    response = client.post("/dashboard/email", data={**form, "action": "preview"})
    html = response.get_data(as_text=True)
    assert "3 recipients" in html
    assert "zh@example.edu.cn" in html and "not@example.edu.cn" not in html
    assert "sub@example.edu.cn" not in html
    assert "Module 3 moves to Friday." in html
    assert _messages(db) == []

    response = client.post("/dashboard/email", data={**form, "action": "send"})
    assert response.status_code == 302
    messages = _messages(db)
    assert [m.to_address for m in messages] == [
        "en@example.edu.cn", "ru@example.edu.cn", "zh@example.edu.cn"]
    by_address = {m.to_address: m for m in messages}
    assert all(m.subject == "Timetable change" for m in messages)
    assert all("Module 3 moves to Friday.\nBring your laptop." in m.body_text for m in messages)
    assert by_address["en@example.edu.cn"].body_text.startswith("Hello ")
    greeting_zh = by_address["zh@example.edu.cn"].body_text.splitlines()[0]
    assert "您好" in greeting_zh and "欧阳娜娜" in greeting_zh
    assert by_address["ru@example.edu.cn"].body_text.startswith("Здравствуйте")


def test_subject_with_a_line_break_is_refused(client, login_as, db):
    intake = _intake_with_teachers(db)
    login_as("coordinator")
    response = client.post("/dashboard/email", data={
        "intake": intake.id, "audience": "taking", "subject": "Hi\r\nBcc: all@example.com",
        "body": "text", "action": "send"})
    assert response.status_code == 200
    assert "The subject must be one line." in response.get_data(as_text=True)
    assert _messages(db) == []


def test_control_characters_in_the_body_are_refused(client, login_as, db):
    intake = _intake_with_teachers(db)
    login_as("coordinator")
    response = client.post("/dashboard/email", data={
        "intake": intake.id, "audience": "taking", "subject": "Hi", "body": "a\x00b",
        "action": "send"})
    assert "invisible control character" in response.get_data(as_text=True)
    assert _messages(db) == []


def test_the_form_is_prefilled_from_an_intake(client, login_as, db):
    intake = _intake_with_teachers(db)
    login_as("coordinator")
    html = client.get(f"/dashboard/email?intake={intake.id}").get_data(as_text=True)
    assert f'<option selected value="{intake.id}">' in html
