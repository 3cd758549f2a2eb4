"""Every progress route × anonymous, teacher, other teacher, coordinator and admin."""

from __future__ import annotations

import pytest

from tests import factories

#: method, path ({i} intake, {p} program, {a} application), and the answer per viewer
ROUTES = [
    ("GET", "/progress", {"owner": 200, "other": 200, "coordinator": 403, "admin": 403}),
    ("GET", "/progress/{a}", {"owner": 200, "other": 404, "coordinator": 403, "admin": 403}),
    ("GET", "/progress/manage/intakes/{i}/roster", "staff"),
    ("POST", "/progress/manage/intakes/{i}/roster", "staff-redirect"),
    ("POST", "/progress/manage/intakes/{i}/close", "staff-redirect"),
    ("GET", "/progress/manage/intakes/{i}/roster.csv", "staff"),
    ("GET", "/progress/manage/intakes/{i}/roster/import", "staff"),
    ("POST", "/progress/manage/intakes/{i}/roster/import", "staff"),
    ("POST", "/progress/manage/intakes/{i}/roster/import/confirm", "staff-redirect"),
    ("GET", "/progress/manage/intakes/{i}/schedule", "staff"),
    ("POST", "/progress/manage/intakes/{i}/schedule", "staff-redirect"),
    ("GET", "/progress/manage/programs/{p}/rules", "staff"),
    ("POST", "/progress/manage/programs/{p}/rules", "staff"),
    ("GET", "/progress/manage/applications/{a}", "staff"),
]
VIEWERS = ["anonymous", "owner", "other", "coordinator", "admin"]


def _expected(rule, viewer):
    if viewer == "anonymous":
        return 302
    if isinstance(rule, dict):
        return rule[viewer]
    if viewer in ("owner", "other"):
        return 403
    return 302 if rule == "staff-redirect" else 200


def test_every_progress_route_is_listed_here(app):
    listed = {path for _, path, _ in ROUTES}
    rules = {rule.rule.replace("<int:intake_id>", "{i}").replace("<int:program_id>", "{p}")
             .replace("<int:application_id>", "{a}")
             for rule in app.url_map.iter_rules() if rule.endpoint.startswith("progress.")}
    assert rules == listed


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access(client, db, login_as, viewer, method, path, rule):
    application = factories.make_application(status="enrolled")
    intake = application.intake
    db.session.commit()
    if viewer == "owner":
        with client.session_transaction() as session:
            session["_user_id"] = application.teacher.get_id()
            session["_fresh"] = True
    elif viewer == "other":
        login_as("teacher")
    elif viewer in ("coordinator", "admin"):
        login_as(viewer)
    url = path.format(i=intake.id, p=intake.program_id, a=application.id)

    response = client.open(url, method=method)

    assert response.status_code == _expected(rule, viewer), f"{viewer} {method} {url}"
