"""The audit log page: who may read it, what each row shows, the filters, pages and queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from course_portal.accounts.models import Role
from course_portal.core.audit import record
from course_portal.extensions import db as _db
from tests import factories
from tests.queries import statements_sent

URL = "/dashboard/audit"


def rows(html: str) -> list[str]:
    """The action codes of the table's rows, top to bottom."""
    return re.findall(r'<tr data-action="([^"]+)">', html)


def staff(login_as, role: str, name: str):
    """Sign in a staff user with this display name."""
    user = login_as(role)
    user.display_name = name
    _db.session.commit()
    return user


def event(action: str, at: datetime | None = None, **kwargs):
    """An audit row as a service writes it, at a chosen moment."""
    row = record(action, **kwargs)
    if at is not None:
        row.occurred_at = at
    _db.session.flush()
    return row


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, "/dashboard/audit.csv"])
def test_anonymous_visitors_go_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", [URL, "/dashboard/audit.csv"])
def test_teachers_are_refused(client, login_as, url):
    login_as("teacher")
    assert client.get(url).status_code == 403


def test_partner_liaisons_are_refused(client, login_as, db):
    # signed in as staff, then made the liaison of one partner university
    liaison = login_as("coordinator")
    partner = factories.make_partner()
    liaison.partner_university_id = partner.id
    liaison.role = Role.PARTNER_LIAISON
    db.session.commit()
    assert client.get(URL).status_code == 403
    assert client.get("/dashboard/audit.csv").status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_staff_read_the_log_and_find_it_in_the_nav(client, login_as, role):
    login_as(role)
    response = client.get(URL)
    assert response.status_code == 200
    assert 'href="/dashboard/audit">Audit log</a>' in client.get("/dashboard").get_data(
        as_text=True)


# --- what a row shows -----------------------------------------------------------------------


def test_a_row_names_who_what_whose_which_and_from_where(client, login_as, db):
    coordinator = staff(login_as, "coordinator", "Anna Ivanova")
    application = factories.make_application(
        status="submitted", teacher=factories.make_teacher(
            family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
            given_name_latin="Nana", email="ouyang@example.edu.cn"))
    event("application.approved", actor=coordinator, teacher=application.teacher,
          target=application, **{"from": "submitted", "to": "approved"}, reason="Good fit")
    row = event("application.enrolled", teacher=application.teacher, target=application,
                **{"from": "approved", "to": "enrolled"}, reason="")
    row.ip = "203.0.113.7"
    db.session.commit()

    html = client.get(URL).get_data(as_text=True)

    assert rows(html) == ["application.enrolled", "application.approved"]  # newest first
    assert "Anna Ivanova" in html
    assert "<em>Portal</em>" in html  # the enrollment had no actor
    assert "Application approved" in html and "Teacher enrolled" in html
    assert "OUYANG Nana" in html and "欧阳娜娜" in html
    assert 'href="/review?q=ouyang@example.edu.cn&amp;status=all"' in html
    assert f'href="/review/applications/{application.id}">Application № {application.id}' in html
    assert "Submitted → Approved" in html and "Good fit" in html
    # an IP address is personal data that a coordinator's work does not need
    assert "203.0.113.7" not in html and "IP address" not in html
    csv_text = client.get("/dashboard/audit.csv").get_data(as_text=True)
    assert "203.0.113.7" not in csv_text and "IP address" not in csv_text


def test_admins_see_where_each_action_came_from(client, login_as, db):
    staff(login_as, "admin", "Pavel Admin")
    row = event("application.enrolled", teacher=factories.make_teacher())
    row.ip = "203.0.113.7"
    db.session.commit()

    html = client.get(URL).get_data(as_text=True)
    assert "IP address" in html and "203.0.113.7" in html
    csv_text = client.get("/dashboard/audit.csv").get_data(as_text=True)
    assert "IP address" in csv_text.splitlines()[0] and "203.0.113.7" in csv_text


def test_markup_in_names_and_reasons_is_shown_as_text(client, login_as, db):
    coordinator = staff(login_as, "coordinator", "<i>Anna</i>")
    teacher = factories.make_teacher(given_name_latin="<script>alert(1)</script>")
    application = factories.make_application(teacher=teacher, status="submitted")
    event("application.rejected", actor=coordinator, teacher=teacher, target=application,
          **{"from": "submitted", "to": "rejected"}, reason="<img src=x onerror=alert(2)>")
    db.session.commit()

    html = client.get(URL).get_data(as_text=True)

    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<i>Anna</i>" not in html and "&lt;i&gt;Anna&lt;/i&gt;" in html


def test_an_unknown_action_shows_its_own_name(client, login_as, db):
    login_as("coordinator")
    event("telescope.pointed")
    db.session.commit()

    html = client.get(URL).get_data(as_text=True)

    assert rows(html) == ["telescope.pointed"]
    assert '<span title="telescope.pointed">telescope.pointed</span>' in html


# --- filters --------------------------------------------------------------------------------


@pytest.fixture
def history(db):
    """Two coordinators, the portal and two teachers across three days of March 2026."""
    anna = factories.make_user(role="coordinator")
    boris = factories.make_user(role="coordinator")
    ouyang = factories.make_teacher(family_name_zh="欧阳", given_name_zh="娜娜",
                                    family_name_latin="Ouyang", given_name_latin="Nana",
                                    email="nana@example.edu.cn")
    li = factories.make_teacher(family_name_zh="李", given_name_zh="伟",
                                family_name_latin="Li", given_name_latin="Wei",
                                email="li.wei@example.edu.cn")
    day = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    event("application.approved", day, actor=anna, teacher=ouyang)
    event("application.rejected", day + timedelta(hours=1), actor=boris, teacher=li)
    # 22:30 UTC on 2 March is 01:30 on 3 March in Moscow, the portal's time zone
    event("application.enrolled", datetime(2026, 3, 2, 22, 30, tzinfo=UTC), teacher=ouyang)
    event("program.updated", day + timedelta(days=4), actor=anna)
    db.session.commit()
    return {"anna": anna, "boris": boris}


def _shown(client, **args) -> list[str]:
    return rows(client.get(URL, query_string=args).get_data(as_text=True))


def test_each_filter_narrows_the_list(client, login_as, history):
    login_as("coordinator")
    everything = ["program.updated", "application.enrolled", "application.rejected",
                  "application.approved"]
    assert _shown(client) == everything
    assert _shown(client, actor=history["anna"].id) == ["program.updated",
                                                        "application.approved"]
    assert _shown(client, actor="portal") == ["application.enrolled"]
    assert _shown(client, teacher="欧阳") == ["application.enrolled", "application.approved"]
    assert _shown(client, teacher="ouyang nana") == ["application.enrolled",
                                                     "application.approved"]
    assert _shown(client, teacher="li.wei@") == ["application.rejected"]
    assert _shown(client, action="application.rejected") == ["application.rejected"]
    assert _shown(client, date_from="2026-03-03") == ["program.updated", "application.enrolled"]
    assert _shown(client, date_to="2026-03-02") == ["application.rejected",
                                                    "application.approved"]
    assert _shown(client, actor="portal", action="application.rejected") == []


def test_the_action_filter_offers_every_action_by_group(client, login_as):
    login_as("coordinator")
    html = client.get(URL).get_data(as_text=True)
    assert '<optgroup label="Certificates">' in html
    assert '<option value="certificate.revoked">Certificate revoked</option>' in html
    assert '<option value="portal">Portal</option>' in html


def test_a_bad_filter_value_is_ignored_not_an_error(client, login_as, history):
    login_as("coordinator")
    response = client.get(URL, query_string={"actor": "999999", "date_from": "yesterday"})
    assert response.status_code == 200
    assert len(rows(response.get_data(as_text=True))) == 4


# --- pages and queries ----------------------------------------------------------------------


def test_fifty_to_a_page_with_links_to_the_others(client, login_as, db):
    login_as("coordinator")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(120):
        event("result.changed" if n < 100 else "program.updated", start + timedelta(minutes=n))
    db.session.commit()

    first = client.get(URL).get_data(as_text=True)
    last = client.get(URL, query_string={"page": 3}).get_data(as_text=True)

    assert rows(first)[:20] == ["program.updated"] * 20 and len(rows(first)) == 50
    assert len(rows(last)) == 20
    assert 'href="/dashboard/audit?page=2"' in first
    assert "120 actions" in first


def _queries(client, count: int) -> int:
    program = factories.make_program()
    for n in range(count):
        teacher = factories.make_teacher()
        application = factories.make_application(teacher=teacher, intake=factories.make_intake(
            program), complete=False)
        actor = factories.make_user(role="coordinator")
        event("application.approved", actor=actor, teacher=teacher, target=application,
              **{"from": "submitted", "to": "approved"}, reason=f"Reason {n}")
    _db.session.commit()
    client.get(URL)  # warm: the session's user is loaded
    with statements_sent(select_only=True) as statements:
        assert client.get(URL).status_code == 200
    return len(statements)


def test_query_count_is_the_same_at_5_and_100_events(client, login_as, db):
    login_as("coordinator")
    assert _queries(client, 5) == _queries(client, 95)


# --- the CSV --------------------------------------------------------------------------------


def test_the_csv_holds_the_filtered_log_with_formulas_neutralised(client, login_as, db):
    coordinator = staff(login_as, "coordinator", "Anna")
    teacher = factories.make_teacher(family_name_latin="=cmd|calc", given_name_latin="A1")
    event("application.rejected", actor=coordinator, teacher=teacher,
          **{"from": "submitted", "to": "rejected"}, reason="Missing diploma")
    event("program.updated", actor=coordinator)
    db.session.commit()

    response = client.get("/dashboard/audit.csv",
                          query_string={"action": "application.rejected"})
    text = response.get_data(as_text=True)

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert text.startswith("\ufeff")
    assert "Application rejected" in text and "Program changed" not in text
    assert "Status: Submitted → Rejected; Reason: Missing diploma" in text
    assert ",'=CMD|CALC A1" in text and ",=CMD" not in text


def test_every_filter_can_be_served_by_an_index(client, login_as, db, database_url):
    """On PostgreSQL, with sequential scans off, no filter of the page reads audit_events whole."""
    if not database_url.startswith("postgresql"):
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set TEST_DATABASE_URL)")
    from sqlalchemy import insert, text

    from course_portal.core.audit import AuditEvent
    from tests.test_indexes import captured, plan, seq_scans

    coordinator = login_as("coordinator")
    teacher = factories.make_teacher(family_name_latin="Ouyang")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.execute(insert(AuditEvent), [
        {"occurred_at": start + timedelta(minutes=n), "action": f"thing.verb{n % 40}",
         "actor_id": coordinator.id if n % 3 else None,
         "teacher_id": teacher.id if n % 7 == 0 else None, "object_type": "", "details": {},
         "ip": ""} for n in range(5000)])
    db.session.commit()
    db.session.execute(text("ANALYZE audit_events"))
    for args in ({}, {"actor": coordinator.id}, {"actor": "portal"}, {"teacher": "ouyang"},
                 {"action": "thing.verb3"}, {"date_from": "2025-01-02", "date_to": "2025-01-02"}):
        statements = captured(lambda a=args: client.get(URL, query_string=a))
        audit_queries = [(s, p) for s, p in statements if "audit_events" in s]
        assert len(audit_queries) == 2  # the count and the page
        for statement, parameters in audit_queries:
            assert not seq_scans(plan(statement, parameters, seqscan=False), ("audit_events",))
