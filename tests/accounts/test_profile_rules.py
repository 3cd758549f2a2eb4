"""One rule for what a profile needs before applying (accounts.profile_rules), read by
registration, the profile form and the application alike."""

from __future__ import annotations

import pytest

from course_portal.accounts.forms import RegistrationForm, TeacherProfileForm
from course_portal.accounts.profile_rules import FOR_APPLYING
from course_portal.enrollment.drafts import submission_problems
from tests import factories
from tests.accounts.helpers import registration, text


@pytest.mark.parametrize("form_class", [RegistrationForm, TeacherProfileForm])
def test_every_field_an_application_needs_is_marked_required_on_the_forms(app, form_class):
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
        form.partner_university_id.choices = [("", "—"), ("1", "Datong University")]
        for name in FOR_APPLYING:
            assert form[name].flags.required, name
            assert 'required' in str(form[name]()), name


def test_registration_without_department_or_position_is_refused_and_keeps_what_was_typed(
        client, db):
    page = text(client.post("/register", data=registration(department="", position="  ")))

    assert page.count("This field is required.") == 2
    assert 'value="ouyang.nana@example.edu.cn"' in page and 'value="Ouyang"' in page
    assert "Check your email" not in page


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
