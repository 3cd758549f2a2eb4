"""The review queue: who may open it, each filter, the search, the sorts, pages, query count."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from course_portal.db import utcnow
from course_portal.enrollment import queue
from course_portal.enrollment.models import FundingSource
from tests import factories
from tests.queries import statements_sent

APPLICATION_ID = 1


def row_ids(response) -> list[int]:
    """The application ids of the queue page's rows, in order."""
    return [int(i) for i in re.findall(r'name="ids" value="(\d+):', response.get_data(as_text=True))]


def submitted(intake, minutes_ago: int = 0, status: str = "submitted", teacher=None, **fields):
    """An application submitted that many minutes ago."""
    return factories.make_application(
        teacher=teacher, intake=intake, status=status,
        submitted_at=utcnow() - timedelta(minutes=minutes_ago), **fields,
    )


@pytest.fixture
def staff(login_as):
    """A coordinator signed in on the test client."""
    return login_as("coordinator")


# --- access -------------------------------------------------------------------------------

REVIEW_REQUESTS = [
    ("GET", "/review"),
    ("POST", "/review"),
    ("GET", f"/review/applications/{APPLICATION_ID}"),
    ("POST", f"/review/applications/{APPLICATION_ID}/decide"),
    ("GET", "/review/export.csv"),
    ("GET", "/review/export.xlsx"),
]


@pytest.fixture
def one_application(db, intake):
    """A submitted application, committed."""
    application = factories.make_application(intake=intake, status="submitted")
    db.session.commit()
    return application


def _url(url: str, application) -> str:
    """The request's URL with the application's real id."""
    return url.replace(f"/{APPLICATION_ID}", f"/{application.id}")


@pytest.mark.parametrize(("method", "url"), REVIEW_REQUESTS, ids=lambda v: str(v))
def test_a_teacher_gets_403_on_every_review_url(client, login_as, one_application, method, url):
    login_as("teacher")
    response = client.open(_url(url, one_application), method=method,
                           data={"ids": [one_application.id], "approve": "1"})
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "url"), REVIEW_REQUESTS, ids=lambda v: str(v))
def test_an_anonymous_visitor_is_sent_to_login(client, one_application, method, url):
    response = client.open(_url(url, one_application), method=method)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_open_the_queue(client, login_as, one_application, role):
    login_as(role)
    response = client.get("/review")
    assert response.status_code == 200
    assert row_ids(response) == [one_application.id]


def test_staff_see_the_applications_link_and_teachers_do_not(client, login_as, db):
    login_as("coordinator")
    assert 'href="/review">Applications to review</a>' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login_as("teacher")
    assert 'href="/review"' not in client.get("/").get_data(as_text=True)


# --- filters ------------------------------------------------------------------------------


def test_by_default_the_queue_shows_what_needs_a_decision(client, staff, db, intake):
    waiting = {submitted(intake, status=s).id for s in ("submitted", "waitlisted")}
    decided = {submitted(intake, status=s).id for s in ("approved", "rejected", "withdrawn")}
    factories.make_application(intake=intake, status="draft")
    db.session.commit()

    assert set(row_ids(client.get("/review"))) == waiting
    everything = set(row_ids(client.get("/review?status=all")))
    assert everything == waiting | decided  # drafts are never in the queue
    approved = row_ids(client.get("/review?status=approved"))
    assert len(approved) == 1 and approved[0] in decided
    assert row_ids(client.get("/review?status=draft")) == sorted(waiting)  # unknown: the default


def test_filter_by_program_and_by_intake(client, staff, db, program, intake):
    other_program = factories.make_program(code="IS")
    other_intake = factories.make_intake(other_program)
    same_program_intake = factories.make_intake(program, title="Autumn 2027")
    mine = submitted(intake)
    sibling = submitted(same_program_intake)
    elsewhere = submitted(other_intake)
    db.session.commit()

    assert set(row_ids(client.get(f"/review?program={program.id}"))) == {mine.id, sibling.id}
    assert row_ids(client.get(f"/review?program={other_program.id}")) == [elsewhere.id]
    assert row_ids(client.get(f"/review?intake={same_program_intake.id}")) == [sibling.id]


def test_filter_by_partner_university(client, staff, db, intake):
    tianshui = factories.make_partner("Tianshui Pedagogical University")
    datong = factories.make_partner("Datong University")
    from_tianshui = submitted(intake, teacher=factories.make_teacher(tianshui))
    submitted(intake, teacher=factories.make_teacher(datong))
    db.session.commit()

    assert row_ids(client.get(f"/review?partner={tianshui.id}")) == [from_tianshui.id]


def test_filter_by_funding_source(client, staff, db, intake):
    ministry = submitted(intake, funding_source=FundingSource.MOE_CHINA)
    submitted(intake, funding_source=FundingSource.SELF_FUNDED)
    db.session.commit()

    assert row_ids(client.get("/review?funding=moe_china")) == [ministry.id]
    assert len(row_ids(client.get("/review?funding=nonsense"))) == 2


def test_a_bad_filter_value_is_reset_not_an_error(client, staff, db, intake):
    application = submitted(intake)
    db.session.commit()
    response = client.get("/review?program=abc&intake=99999&page=-3&sort=evil")
    assert response.status_code == 200
    assert row_ids(response) == [application.id]


def test_seats_left_are_shown_for_the_filtered_intake(client, staff, db, intake):
    submitted(intake, status="approved")
    submitted(intake)
    db.session.commit()
    page = client.get(f"/review?intake={intake.id}").get_data(as_text=True)
    assert "4 of 5 seats left" in page
    assert "seats left" not in client.get("/review").get_data(as_text=True)


# --- search -------------------------------------------------------------------------------


@pytest.fixture
def nana(db, intake):
    """欧阳娜娜 (OUYANG Nana) and 王小明 (WANG Xiaoming), both waiting."""
    teacher = factories.make_teacher(
        family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
        given_name_latin="Nana", email="nana.ouyang@tsnu.edu.cn",
    )
    found = submitted(intake, teacher=teacher)
    submitted(intake, teacher=factories.make_teacher(email="wang@dtu.edu.cn"))
    db.session.commit()
    return found


@pytest.mark.parametrize("query", [
    "欧阳娜娜", "娜娜", "欧阳", "欧阳 娜娜",
    "ouyang nana", "Ouyang Nana", "NANA", "nana ouyang", "ouyangnana",
    "nana.ouyang@tsnu.edu.cn", "tsnu.edu", "NANA.OUYANG@",
])
def test_search_finds_by_chinese_name_pinyin_or_email(client, staff, nana, query):
    response = client.get("/review", query_string={"q": query})
    assert row_ids(response) == [nana.id]


@pytest.mark.parametrize("query", ["娜娜王", "ouyang xiaoming", "%", "_", "nobody@example.org"])
def test_search_finds_nothing_that_does_not_match(client, staff, nana, query):
    response = client.get("/review", query_string={"q": query})
    assert row_ids(response) == []
    assert "No application matches these filters." in response.get_data(as_text=True)


# --- sorting ------------------------------------------------------------------------------


def test_the_sorts(app, db, intake):
    a = factories.make_partner("Alpha University")
    z = factories.make_partner("Zeta University")
    zhao = submitted(intake, 30, teacher=factories.make_teacher(z, family_name_latin="Zhao"))
    li = submitted(intake, 20, status="waitlisted",
                   teacher=factories.make_teacher(a, family_name_latin="li"))
    ma = submitted(intake, 10, teacher=factories.make_teacher(z, family_name_latin="Ma"))
    db.session.commit()

    def order(sort: str) -> list[int]:
        """The ids of the first page in that sort."""
        page = queue.queue_page(queue.QueueFilters(sort=sort))
        return [row.application.id for row in page.rows]

    assert order("submitted") == [zhao.id, li.id, ma.id]
    assert order("newest") == [ma.id, li.id, zhao.id]
    assert order("name") == [li.id, ma.id, zhao.id]  # case does not matter
    assert order("status") == [zhao.id, ma.id, li.id]  # submitted before waitlisted
    assert order("partner") == [li.id, zhao.id, ma.id]


def test_the_default_order_is_oldest_first_on_the_page(client, staff, db, intake):
    newer = submitted(intake, 1)
    older = submitted(intake, 60)
    db.session.commit()
    assert row_ids(client.get("/review")) == [older.id, newer.id]
    assert row_ids(client.get("/review?sort=newest")) == [newer.id, older.id]


# --- pages --------------------------------------------------------------------------------


def test_51_applications_make_two_pages_whose_links_keep_the_filters(client, staff, db, program):
    intake = factories.make_intake(program, capacity=100)
    ids = [submitted(intake, 100 - n).id for n in range(51)]
    db.session.commit()

    first = client.get(f"/review?intake={intake.id}&sort=submitted&status=all")
    assert row_ids(first) == ids[:50]
    html = first.get_data(as_text=True)
    assert "51 applications" in html
    next_link = re.search(r'<a href="([^"]+)" rel="next">Next</a>', html).group(1)
    args = parse_qs(urlsplit(next_link.replace("&amp;", "&")).query)
    assert args == {"intake": [str(intake.id)], "status": ["all"], "page": ["2"]}

    second = client.get(next_link.replace("&amp;", "&"))
    assert row_ids(second) == ids[50:]
    assert 'rel="prev"' in second.get_data(as_text=True)
    assert row_ids(client.get(f"/review?intake={intake.id}&status=all&page=9")) == ids[50:]


def test_page_numbers_leave_gaps():
    page = queue.QueuePage(rows=[], total=50 * 20, page=10, per_page=50)
    assert page.page_numbers() == [1, None, 8, 9, 10, 11, 12, None, 20]


# --- queries ------------------------------------------------------------------------------


def _queries_for_queue_page(client, url: str) -> int:
    with statements_sent() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_applications(client, staff, db, program):
    client.application.config["PAGE_CACHE_SECONDS"] = 0  # what rendering costs, not a kept copy
    intake = factories.make_intake(program, capacity=200)
    for _ in range(5):
        submitted(intake, teacher=factories.make_teacher(factories.make_partner()))
    db.session.commit()
    url = f"/review?intake={intake.id}&sort=partner"
    few = _queries_for_queue_page(client, url)

    for _ in range(115):
        submitted(intake, teacher=factories.make_teacher(factories.make_partner()))
    db.session.commit()
    many = _queries_for_queue_page(client, url)

    assert len(row_ids(client.get(url))) == 50
    assert many == few
    assert few <= 10


def test_a_name_and_an_email_with_markup_are_printed_as_text_in_the_rows(client, staff, db,
                                                                         program):
    """The rows are written in Python (enrollment/queue_rows.py): what a teacher typed shows
    as the characters typed."""
    client.application.config["PAGE_CACHE_SECONDS"] = 0
    intake = factories.make_intake(program)
    submitted(intake, teacher=factories.make_teacher(
        family_name_latin='<img src=x onerror="alert(1)">', given_name_latin="{{ 7*7 }}",
        family_name_zh="<i>王</i>"), funding_source=FundingSource.OTHER,
        funding_other="<u>my own</u>")
    db.session.commit()

    # the passport form is written FAMILY Given: compared without case
    page = client.get(f"/review?intake={intake.id}").get_data(as_text=True).lower()

    assert "<img src=x" not in page and "<i>王</i>" not in page and "<u>my own" not in page
    assert "&lt;img src=x onerror=" in page and "&lt;i&gt;王&lt;/i&gt;" in page
    assert "&lt;u&gt;my own&lt;/u&gt;" in page and "{{ 7*7 }}" in page
