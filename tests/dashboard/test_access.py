"""Every dashboard URL: anonymous visitors go to login, teachers get 403, coordinators get in."""

from __future__ import annotations

import pytest

from tests import factories
from tests.accounts.helpers import sign_in

URLS = [
    ("GET", "/dashboard"),
    ("GET", "/dashboard/intakes/{intake}"),
    ("GET", "/dashboard/reports"),
    ("GET", "/dashboard/reports/status.csv"),
    ("GET", "/dashboard/reports/status.xlsx"),
    ("GET", "/dashboard/reports/status.pdf"),
    ("GET", "/dashboard/reports/partners/{partner}"),
    ("GET", "/dashboard/reports/partners/{partner}.csv"),
    ("GET", "/dashboard/reports/partners/{partner}.xlsx"),
    ("GET", "/dashboard/reports/partners/{partner}.pdf"),
    ("GET", "/dashboard/email"),
    ("POST", "/dashboard/email"),
]


@pytest.fixture
def ids(db):
    partner = factories.make_partner()
    intake = factories.make_intake(factories.make_program())
    db.session.commit()
    return {"intake": intake.id, "partner": partner.id}


@pytest.mark.parametrize(("method", "url"), URLS)
def test_anonymous_goes_to_login(client, ids, method, url):
    response = client.open(url.format(**ids), method=method)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "url"), URLS)
def test_teacher_is_refused(client, login_as, ids, method, url):
    login_as("teacher")
    assert client.open(url.format(**ids), method=method).status_code == 403


@pytest.mark.parametrize(("method", "url"), URLS)
@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_staff_get_in(client, login_as, ids, method, url, role):
    login_as(role)
    assert client.open(url.format(**ids), method=method).status_code == 200


def test_staff_nav_links_the_dashboard(client, login_as):
    login_as("coordinator")
    assert 'href="/dashboard">Dashboard</a>' in client.get("/review").get_data(as_text=True)
    login_as("teacher")
    assert 'href="/dashboard"' not in client.get("/").get_data(as_text=True)


def test_staff_land_on_the_dashboard_after_sign_in(client, db):
    coordinator = factories.make_user(role="coordinator", email="c@example.com")
    teacher = factories.make_user(email="t@example.edu.cn")
    db.session.commit()
    for user, home in ((coordinator, "/dashboard"), (teacher, "/")):
        # the coordinator types the two-step code too; the answer to the last step is checked
        response = sign_in(client, user.email, factories.PASSWORD)
        assert response.headers["Location"] == home
        client.post("/logout")
    response = sign_in(client, "c@example.com", factories.PASSWORD, query_string={"next": "/review"})
    assert response.headers["Location"] == "/review"
