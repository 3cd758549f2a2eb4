"""An older account that lacks what an application needs fills it in on the apply page itself.

The rule is accounts.profile_rules.FOR_APPLYING; registration asks for all of it now, but a
teacher registered before (or created by a coordinator) can lack a department or a position.
"""

from __future__ import annotations

import pytest

from tests import factories
from tests.enrollment.test_pages_teacher import (
    MOTIVATION,
    all_files,
    application_form,
    applications_of,
    field_block,
    sign_in,
    text,
)


@pytest.fixture
def older_teacher(db, client):
    """A signed-in teacher with a name and a university, but no department or position."""
    partner = factories.make_partner(name_en="Datong University")
    user = factories.make_user(role="teacher", email="older@example.edu.cn",
                               partner_university_id=partner.id, department="", position="")
    db.session.commit()
    sign_in(client, user)
    return user


@pytest.fixture
def url(intake, db):
    db.session.commit()
    return f"/intakes/{intake.id}/apply"


def test_the_page_asks_for_exactly_what_the_profile_lacks(client, older_teacher, url):
    page = text(client.get(url))

    assert 'name="department"' in page and 'name="position"' in page
    assert 'name="family_name_zh"' not in page and 'name="partner_university_id"' not in page


def test_a_complete_profile_is_not_asked_again(client, db, url):
    teacher = factories.make_teacher(email="complete@example.edu.cn")
    db.session.commit()
    sign_in(client, teacher)

    assert 'name="department"' not in text(client.get(url))


def test_filled_in_there_the_application_is_submitted_and_the_profile_kept(
        client, db, older_teacher, url):
    response = client.post(url, data=application_form(
        "send", files=all_files(), department="School of Economics", position="Lecturer"))

    assert response.status_code == 302
    application, = applications_of(older_teacher)
    assert application.status == "submitted"
    db.session.refresh(older_teacher.profile)
    assert older_teacher.profile.department == "School of Economics"
    assert older_teacher.profile.position == "Lecturer"
    assert "School of Economics" in text(client.get("/profile"))


def test_one_left_blank_keeps_the_draft_and_what_was_typed_and_is_marked(
        client, db, older_teacher, url):
    page = text(client.post(url, data=application_form(
        "send", files=all_files(), department="School of Economics", position="")))

    assert "Complete your profile first" in page and "Position" in page
    assert "This field is required." in field_block(page, "position")
    assert 'value="School of Economics"' in field_block(page, "department")
    application, = applications_of(older_teacher)
    assert application.status == "draft"
    assert application.motivation == MOTIVATION
    assert len(application.documents) == 3
    db.session.refresh(older_teacher.profile)
    assert older_teacher.profile.department == "School of Economics"  # saved with the draft

    # the page now asks only for the position, and the same draft goes
    page = text(client.get(url))
    assert 'name="department"' not in page and 'name="position"' in page
    response = client.post(url, data=application_form("send", position="Lecturer"))
    assert response.status_code == 302
    assert applications_of(older_teacher)[0].status == "submitted"


def test_saving_a_draft_does_not_need_them(client, db, older_teacher, url):
    response = client.post(url, data=application_form("save"))

    assert response.status_code == 302
    assert applications_of(older_teacher)[0].status == "draft"


def test_a_value_the_profile_would_refuse_is_refused_here_and_nothing_is_saved(
        client, db, older_teacher, url):
    page = text(client.post(url, data=application_form(
        "save", department="School\u202eof Economics", position="Lecturer")))

    assert "Remove the invisible character" in field_block(page, "department")
    assert MOTIVATION in page  # what was typed is still there
    assert applications_of(older_teacher) == []
    db.session.refresh(older_teacher.profile)
    assert older_teacher.profile.position == ""


def test_in_chinese_the_marks_are_the_portals_words(client, db, older_teacher, url):
    older_teacher.locale = "zh"
    db.session.commit()
    page = text(client.post(url, data=application_form("send", files=all_files())))

    assert "此项为必填项。" in field_block(page, "position")
    assert "院系" in page and "职务" in page


def test_a_teacher_without_a_university_chooses_it_on_the_page(client, db, url):
    partner = factories.make_partner(name_en="Harbin Cambridge University")
    teacher = factories.make_user(role="teacher", email="nouni@example.edu.cn",
                                  department="Languages", position="Lecturer")
    db.session.commit()
    sign_in(client, teacher)

    page = text(client.get(url))
    assert "Harbin Cambridge University" in field_block(page, "partner_university_id")

    response = client.post(url, data=application_form(
        "send", files=all_files(), partner_university_id=str(partner.id)))
    assert response.status_code == 302
    db.session.refresh(teacher.profile)
    assert teacher.profile.partner_university_id == partner.id
