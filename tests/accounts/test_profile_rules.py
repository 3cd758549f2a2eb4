"""One rule for what a profile needs before applying (accounts.profile_rules), read by
registration, the profile form and the application alike."""

from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext as _l

from course_portal.accounts.forms import RegistrationForm, TeacherProfileForm
from course_portal.accounts.profile_rules import FOR_APPLYING
from course_portal.enrollment.drafts import submission_problems
from tests import factories
from tests.accounts.helpers import registration, text


def input_tag(page: str, name: str) -> str:
    """The <input> or <select> of that name, as the page writes it."""
    return re.search(rf'<(?:input|select)\b[^>]*\bname="{name}"[^>]*>', page).group(0)


def field_block(page: str, name: str) -> str:
    """The field wrapper holding the input of that name: label, input, hint and errors."""
    position = page.index(f'name="{name}"')
    start = page.rindex('<div class="field', 0, position)
    return page[start:page.index("</div>", position)]


@pytest.mark.parametrize("form_class", [RegistrationForm, TeacherProfileForm])
def test_every_field_an_application_needs_is_marked_required_on_the_forms(app, form_class):
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
        form.partner_university_id.choices = [("", "—"), ("1", "Datong University")]
        for name in FOR_APPLYING:
            assert form[name].flags.required, name
            assert 'required' in str(form[name]()), name
            # the refusal names a field by the label the teacher reads on the form
            assert form[name].label.text == str(FOR_APPLYING[name]), name


def test_registration_without_department_or_position_is_refused_and_keeps_what_was_typed(
        client, db):
    factories.make_partner(name_en="Datong University")
    db.session.commit()
    page = text(client.post("/register", data=registration(department="", position="  ")))

    assert "This field is required." in field_block(page, "department")
    assert "This field is required." in field_block(page, "position")
    assert 'value="ouyang.nana@example.edu.cn"' in page and 'value="Ouyang"' in page
    assert 'value="Associate professor of Russian"' not in page  # position was blank
    assert "Check your email" not in page


def test_registration_asks_in_the_portals_words_in_chinese(client, db):
    client.post("/language", data={"language": "zh", "next": "/register"})
    page = text(client.post("/register", data=registration(department="")))

    assert "此项为必填项。" in field_block(page, "department")
    assert "该字段是必填字段" not in page  # WTForms' own wording


def test_the_forms_say_optional_only_of_what_is(client, db):
    factories.make_partner(name_en="Datong University")
    db.session.commit()
    page = text(client.get("/register"))

    assert "Optional." not in field_block(page, "department")
    assert "Optional." not in field_block(page, "position")
    assert "Optional." in field_block(page, "phone")
    assert "An application needs it" in field_block(page, "partner_university_id")


def test_a_new_portal_without_universities_still_takes_registrations(client, db):
    """A required menu that offers only the blank choice would stop the browser sending."""
    page = text(client.get("/register"))

    assert " required" not in input_tag(page, "partner_university_id")
    response = client.post("/register", data=registration())
    assert response.headers["Location"] == "/register/sent"


def test_an_older_account_missing_a_field_is_told_which_and_keeps_the_draft(client, db,
                                                                          login_as):
    partner = factories.make_partner(name_en="Datong University")
    teacher = login_as("teacher", partner_university_id=partner.id, department="", position="")
    intake = factories.make_intake(factories.make_program(code="PR"))
    application = factories.make_application(teacher=teacher, intake=intake, status="draft")
    db.session.commit()

    problems = submission_problems(application)[None]
    message = str(problems[0])
    assert "Department" in message and "Position" in message and "University" not in message
    assert "draft is kept" in message

    # filled in on the profile, the same draft can be sent
    teacher.profile.department, teacher.profile.position = "School of Economics", "Lecturer"
    db.session.commit()
    assert None not in submission_problems(application)


def test_registration_the_profile_and_the_application_all_follow_the_rule(
        client, db, login_as, monkeypatch):
    """Change the rule alone, and the three readers change with it: position is no longer
    needed, a phone number is."""
    monkeypatch.delitem(FOR_APPLYING, "position")
    monkeypatch.setitem(FOR_APPLYING, "phone", _l("Phone"))
    partner = factories.make_partner(name_en="Datong University")
    db.session.commit()

    # registration
    page = text(client.get("/register"))
    assert " required" in input_tag(page, "phone")
    assert " required" not in input_tag(page, "position")
    assert "Optional." in field_block(page, "position")
    page = text(client.post("/register", data=registration(
        partner_university_id=str(partner.id), phone="", position="")))
    assert "This field is required." in field_block(page, "phone")
    assert "This field is required." not in field_block(page, "position")
    assert "Check your email" not in page

    # the profile form
    teacher = login_as("teacher", partner_university_id=partner.id, department="Economics",
                       position="", phone="")
    page = text(client.get("/profile/edit"))
    assert " required" in input_tag(page, "phone")
    assert " required" not in input_tag(page, "position")

    # the application: refused for the phone, not for the position, and asked on the page
    intake = factories.make_intake(factories.make_program(code="PR"))
    application = factories.make_application(teacher=teacher, intake=intake, status="draft")
    db.session.commit()
    message = str(submission_problems(application)[None][0])
    assert "Phone" in message and "Position" not in message
    page = text(client.get(f"/intakes/{intake.id}/apply"))
    assert 'name="phone"' in page and 'name="position"' not in page
