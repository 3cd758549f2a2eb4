"""Only coordinators and admins reach the management pages; others are sent away."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests import factories

#: every management route with the method that reaches it; {p} program id, {i} intake id
ROUTES = [
    ("GET", "/manage/programs"),
    ("GET", "/manage/programs/new"),
    ("POST", "/manage/programs/new"),
    ("GET", "/manage/programs/{p}"),
    ("POST", "/manage/programs/{p}"),
    ("GET", "/manage/programs/{p}/modules"),
    ("POST", "/manage/programs/{p}/modules"),
    ("GET", "/manage/programs/{p}/intakes"),
    ("GET", "/manage/programs/{p}/intakes/new"),
    ("POST", "/manage/programs/{p}/intakes/new"),
    ("GET", "/manage/programs/{p}/intakes/{i}"),
    ("POST", "/manage/programs/{p}/intakes/{i}"),
    ("POST", "/manage/programs/{p}/intakes/{i}/applications"),
]


@pytest.fixture
def urls(db):
    program = factories.make_program(code="IE", published=False)
    intake = factories.make_intake(program)
    db.session.commit()
    return {"p": program.id, "i": intake.id}


def test_every_management_endpoint_is_listed_here(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.rule.startswith("/manage/")}
    assert len(endpoints) == 8
    listed = {path for _, path in ROUTES}
    rules = {rule.rule.replace("<int:program_id>", "{p}").replace("<int:intake_id>", "{i}")
             for rule in app.url_map.iter_rules() if rule.rule.startswith("/manage/")}
    assert rules == listed


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(client, urls, method, path):
    response = client.open(path.format(**urls), method=method, data={"is_open": "0"})

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_teachers_get_403(client, login_as, urls, method, path):
    login_as("teacher")

    response = client.open(path.format(**urls), method=method, data={"is_open": "0"})

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "admin"])
@pytest.mark.parametrize("path", [path for method, path in ROUTES if method == "GET"])
def test_coordinators_and_admins_open_every_page(client, login_as, urls, role, path):
    login_as(role)

    assert client.get(path.format(**urls)).status_code == 200


def test_admins_can_close_applications(client, login_as, urls):
    login_as("admin")
    response = client.post("/manage/programs/{p}/intakes/{i}/applications".format(**urls),
                           data={"is_open": "0"})
    assert response.status_code == 302
