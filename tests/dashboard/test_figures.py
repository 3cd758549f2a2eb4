"""The dashboard's figures on a known data set, the links behind them, and the filters."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from course_portal.core.clock import portal_today
from course_portal.dashboard import services
from tests.dashboard.helpers import make_data_set


def test_figures_of_a_known_data_set(app, db):
    data = make_data_set()
    figures = services.figures(services.DashboardFilters())
    assert figures.by_status == {"completed": 2, "not_completed": 1, "submitted": 2,
                                 "waitlisted": 1, "approved": 1}
    assert figures.applications == 7  # the draft is not counted
    assert figures.completion_percent == 66
    assert {(p.name_en if p else None): n for p, n in figures.by_partner} == {
        "Tianshui Pedagogical University": 4, "Datong University": 3}
    assert figures.by_funding == {"home_university": 6, "self_funded": 1}
    seats = {intake.id: taken for intake, taken in figures.seats}
    assert seats == {data.finished.id: 3, data.upcoming.id: 1}


def test_filters_narrow_every_figure(app, db):
    data = make_data_set()
    figures = services.figures(services.DashboardFilters(partner_id=data.datong.id))
    assert figures.by_status == {"not_completed": 1, "waitlisted": 1, "approved": 1}
    figures = services.figures(services.DashboardFilters(intake_id=data.upcoming.id,
                                                         funding="self_funded"))
    assert figures.by_status == {"submitted": 1}
    assert [i.id for i, _ in figures.seats] == [data.upcoming.id]
    figures = services.figures(services.DashboardFilters(program_id=data.finished.program_id))
    assert figures.completed == 2 and figures.not_completed == 1


def test_period_filter(app, db):
    from datetime import timedelta

    make_data_set()
    today = portal_today()
    assert services.figures(services.DashboardFilters(
        submitted_from=today - timedelta(days=2), submitted_to=today + timedelta(days=1))
    ).applications == 7
    assert services.figures(services.DashboardFilters(
        submitted_to=today - timedelta(days=5))).applications == 0


def _links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)]


def test_page_links_carry_the_filters(client, login_as, db):
    data = make_data_set()
    login_as("coordinator")
    response = client.get(f"/dashboard?partner={data.tianshui.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    queue_links = [urlsplit(u) for u in _links(html) if u.startswith("/review")]
    by_status = [parse_qs(u.query) for u in queue_links if "status" in parse_qs(u.query)]
    assert {"partner": [str(data.tianshui.id)], "status": ["submitted"]} in by_status
    assert {"partner": [str(data.tianshui.id)], "status": ["all"],
            "funding": ["self_funded"]} in by_status
    assert f"/dashboard/intakes/{data.upcoming.id}" in _links(html)
    # nothing inline, which the CSP forbids (scripts come from the portal's own files)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html
    # the figure leads to the same number in the queue
    queue = client.get(f"/review?partner={data.tianshui.id}&status=submitted")
    assert "2 applications" in queue.get_data(as_text=True)


def test_bad_filters_are_ignored(client, login_as, db):
    make_data_set()
    login_as("coordinator")
    response = client.get("/dashboard?intake=999999&submitted_from=yesterday&funding=gold")
    assert response.status_code == 200


def test_queue_links_are_what_url_for_builds(app):
    from flask import url_for

    from course_portal.dashboard.views import queue_links

    cases = [services.DashboardFilters(),
             services.DashboardFilters(program_id=3, intake_id=12, partner_id=7, funding="other")]
    with app.test_request_context("/dashboard"):
        for filters in cases:
            link = queue_links(filters)
            for extra in ({}, {"status": "all"}, {"status": "needs_decision"},
                          {"partner": 5, "status": "all"}, {"funding": "self_funded"}):
                assert link(**extra) == url_for("enrollment.review_queue",
                                                **filters.queue_args(**extra))
