"""Every dashboard page in Chinese and Russian; bulk email needs the CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from course_portal.core.outbox import OutboxMessage
from tests import factories
from tests.dashboard.helpers import make_data_set


@pytest.mark.parametrize(("locale", "heading"), [("zh", "工作台"), ("ru", "Панель координатора")])
def test_pages_in_each_language(client, login_as, db, locale, heading):
    data = make_data_set()
    login_as("coordinator", locale=locale)
    assert heading in client.get("/dashboard").get_data(as_text=True)
    for url in (f"/dashboard/intakes/{data.finished.id}", "/dashboard/reports",
                f"/dashboard/reports/partners/{data.tianshui.id}", "/dashboard/email",
                "/dashboard/reports/status.pdf"):
        assert client.get(url).status_code == 200, url


def test_bulk_email_without_the_csrf_token_sends_nothing(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        from course_portal.extensions import db

        intake = factories.make_intake(factories.make_program())
        factories.make_application(intake=intake, status="enrolled")
        user = factories.make_user(role="coordinator")
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
        response = client.post("/dashboard/email", data={
            "intake": intake.id, "audience": "taking", "subject": "Hi", "body": "Text",
            "action": "send"})
        assert response.status_code == 200
        assert "This form had expired" in response.get_data(as_text=True)
        assert db.session.scalars(select(OutboxMessage)).all() == []
