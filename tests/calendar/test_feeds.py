"""Calendar feeds as a phone's calendar app reads them: the events, their times, titles and UIDs.

Every feed is parsed with the icalendar package, as a calendar app would parse it; the tests
look at what the teacher would see in their calendar, not at how the feed is built.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import unquote

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import select

from course_portal.calendar import services
from course_portal.catalog.models import Intake, Program
from course_portal.core.audit import AuditEvent
from course_portal.core.clock import portal_today
from course_portal.enrollment.models import Application
from course_portal.progress.records import save_schedule
from tests import factories
from tests.test_translations import compile_if_stale

# the feeds' titles are read in Chinese and Russian below: compile the catalogs first when
# pytest runs without make (make test compiles them)
compile_if_stale()


@dataclass
class World:
    teacher: object
    program: Program
    enrolled: Application
    draft: Application
    approved: Application
    rejected: Application
    coordinator: object


def _world(locale: str = "zh") -> World:
    today = portal_today()
    program = factories.make_program(code="IE", title_en="Investment Ecosystem",
                                     title_zh="投资生态系统", title_ru="Инвестиционная экосистема")
    other = factories.make_program(code="SC", title_en="Smart Cities", title_zh="智慧城市",
                                   title_ru="Умные города")
    spring = factories.make_intake(program, title="Spring 2027")
    autumn = factories.make_intake(other, title="Autumn 2027",
                                   applications_close_on=today + timedelta(days=25))
    third = factories.make_program(code="DE", title_en="Digital Economy", title_zh="数字经济",
                                   title_ru="Цифровая экономика")
    summer = factories.make_intake(third, title="Summer 2027")
    winter = factories.make_intake(other, title="Winter 2027")
    teacher = factories.make_teacher(locale=locale, family_name_zh="欧阳", given_name_zh="娜娜",
                                     family_name_latin="Ouyang", given_name_latin="Nana")
    coordinator = factories.make_user(role="coordinator")
    enrolled = factories.make_application(teacher=teacher, intake=spring, status="enrolled")
    draft = factories.make_application(teacher=teacher, intake=autumn, status="draft")
    approved = factories.make_application(teacher=teacher, intake=summer, status="approved",
                                          confirm_by=today + timedelta(days=5))
    rejected = factories.make_application(teacher=teacher, intake=winter, status="rejected")
    first, second = program.modules[0], program.modules[1]
    save_schedule(spring, {
        first.id: (spring.starts_on, spring.starts_on + timedelta(days=6)),
        second.id: (spring.starts_on + timedelta(days=7), spring.starts_on + timedelta(days=20)),
    }, actor=coordinator)
    return World(teacher, program, enrolled, draft, approved, rejected, coordinator)


@pytest.fixture
def world(db):
    built = _world()
    db.session.commit()
    return built


def _feed_url(db, user) -> str:
    token = services.token_for(user)
    db.session.commit()
    return f"/calendar/{token}.ics"


def _events(response) -> dict[str, object]:
    """The feed's events by UID; the feed must parse, as a calendar app parses it."""
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.get_data())
    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    assert len(events) == len(calendar.walk("VEVENT")), "two events share a UID"
    return events


def _by_summary(events: dict, text: str):
    found = [event for event in events.values() if text in str(event["summary"])]
    assert len(found) == 1, (text, [str(e["summary"]) for e in events.values()])
    return found[0]


def _start(event):
    return event.decoded("dtstart")


def _last_day(event) -> date:
    """The last day an all-day event covers (DTEND is the day after)."""
    return event.decoded("dtend") - timedelta(days=1)


# --- the private feed ----------------------------------------------------------------------


def test_the_private_feed_holds_the_teachers_days_modules_and_deadlines(client, db, world):
    response = client.get(_feed_url(db, world.teacher))
    events = _events(response)
    calendar = Calendar.from_ical(response.get_data())
    spring = world.enrolled.intake

    start = _by_summary(events, "投资生态系统：开课")
    end = _by_summary(events, "投资生态系统：结课")
    # whole days, with no time and no zone: the same day on any phone
    assert type(_start(start)) is date and _start(start) == spring.starts_on
    assert type(_start(end)) is date and _start(end) == spring.ends_on == _last_day(end)
    first = _by_summary(events, "模块1")
    second = _by_summary(events, "模块2")
    assert (_start(first), _last_day(first)) == (spring.starts_on,
                                                 spring.starts_on + timedelta(days=6))
    assert (_start(second), _last_day(second)) == (spring.starts_on + timedelta(days=7),
                                                   spring.starts_on + timedelta(days=20))
    assert "投资生态系统" in str(first["summary"])
    assert "模块3" not in response.get_data(as_text=True)  # not scheduled: not in the calendar

    # the draft's deadline: 23:59 in Moscow on the last day of the application period
    deadline = _by_summary(events, "智慧城市：申请提交截止")
    close = world.draft.intake.applications_close_on
    moment = _start(deadline)
    assert str(moment.tzinfo) == "Europe/Moscow"
    assert moment.astimezone(UTC) == datetime.combine(close, time(20, 59), tzinfo=UTC)
    assert "23:59" in str(deadline["description"]) and "莫斯科时间" in str(deadline["description"])
    assert str(deadline["url"]).endswith(f"/applications/{world.draft.id}")
    # the confirmation deadline, at the end of the confirm_by day
    confirm = _by_summary(events, "数字经济：确认名额截止")
    assert _start(confirm).astimezone(UTC) == datetime.combine(
        world.approved.confirm_by, time(20, 59), tzinfo=UTC)
    # the zone the deadlines name is described in the feed itself
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]
    # a rejected application's intake is not the teacher's
    assert f"intake-{world.rejected.intake_id}-" not in response.get_data(as_text=True)
    assert str(calendar["method"]) == "PUBLISH"
    assert str(calendar["x-wr-calname"]) == "我在圣彼得堡理工大学的课程"


def test_the_private_feed_is_never_stored_or_indexed(client, db, world):
    response = client.get(_feed_url(db, world.teacher))

    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_a_confirmed_seat_has_no_confirmation_deadline(client, db, world):
    world.approved.confirmed_at = datetime.now(UTC)
    db.session.commit()

    events = _events(client.get(_feed_url(db, world.teacher)))

    assert not [e for e in events.values() if "确认名额截止" in str(e["summary"])]
    assert _by_summary(events, "数字经济：开课")  # the seat's intake is still there


@pytest.mark.parametrize(("locale", "starts", "module", "deadline"), [
    ("ru", "«Инвестиционная экосистема»: начало обучения",
     "«Инвестиционная экосистема»: модуль 1 «Модуль 1»",
     "«Умные города»: последний день подачи заявки"),
    ("en", "Investment Ecosystem: the course starts", "Investment Ecosystem: module 1, Module 1",
     "Smart Cities: last day to submit your application"),
])
def test_titles_are_in_the_teachers_language(client, db, locale, starts, module, deadline):
    built = _world(locale)
    db.session.commit()

    events = _events(client.get(_feed_url(db, built.teacher)))

    for title in (starts, module, deadline):
        _by_summary(events, title)


def test_dtstamp_is_the_portals_clock(client, db, world):
    url = _feed_url(db, world.teacher)
    moment = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        events = _events(client.get(url))

    assert {event.decoded("dtstamp") for event in events.values()} == {moment}


def test_events_keep_their_uids_and_a_moved_module_moves_in_place(client, db, world):
    url = _feed_url(db, world.teacher)
    before = _events(client.get(url))
    again = _events(client.get(url))
    spring = world.enrolled.intake
    first = world.program.modules[0]
    uid = next(uid for uid, e in before.items() if "模块1" in str(e["summary"]))

    assert set(before) == set(again)
    # the enrolled intake's two days and two modules, the draft's deadline, the approved
    # seat's intake (two days) and its confirmation deadline
    assert len(before) == 2 + 2 + 1 + 2 + 1
    assert all(uid.endswith("@portal.test") for uid in before)

    save_schedule(spring, {first.id: (spring.starts_on + timedelta(days=2),
                                      spring.starts_on + timedelta(days=4))},
                  actor=world.coordinator)
    db.session.commit()
    moved = _events(client.get(url))

    assert set(moved) == set(before)
    assert (_start(moved[uid]), _last_day(moved[uid])) == (spring.starts_on + timedelta(days=2),
                                                           spring.starts_on + timedelta(days=4))


def test_clearing_and_setting_a_modules_dates_again_keeps_its_uid(client, db, world):
    url = _feed_url(db, world.teacher)
    spring = world.enrolled.intake
    first = world.program.modules[0]
    uid = next(uid for uid, e in _events(client.get(url)).items() if "模块1" in str(e["summary"]))

    save_schedule(spring, {first.id: (None, None)}, actor=world.coordinator)
    db.session.commit()
    assert uid not in _events(client.get(url))
    save_schedule(spring, {first.id: (spring.starts_on, spring.starts_on)},
                  actor=world.coordinator)
    db.session.commit()

    assert _start(_events(client.get(url))[uid]) == spring.starts_on


# --- the token ------------------------------------------------------------------------------


def test_a_new_address_replaces_the_old_one(client, db, world):
    old_url = _feed_url(db, world.teacher)
    with client.session_transaction() as session:
        session["_user_id"] = world.teacher.get_id()
        session["_fresh"] = True

    response = client.post("/calendar/reset", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.request.path == "/progress"
    assert "您的日历已启用新地址" in page
    db.session.expire_all()
    new_url = f"/calendar/{world.teacher.calendar_token}.ics"
    assert new_url != old_url and new_url in page
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.token_reset"))
    assert row.actor_id == row.teacher_id == world.teacher.id
    assert world.teacher.calendar_token not in str(row.details)


def test_the_token_is_made_once(db, world):
    token = services.token_for(world.teacher)
    db.session.commit()

    assert len(token) >= 43
    assert services.token_for(world.teacher) == token


@pytest.mark.parametrize("token", [
    "not-a-token-that-was-ever-issued-0000",
    "x" * 10_000,
    "..%2F..%2Fetc%2Fpasswd",
    "../../etc/passwd",
    "%00" + "a" * 43,
    "%E6%8A%95" * 20,
])
def test_an_unknown_or_hostile_token_is_a_404(client, db, world, token):
    _feed_url(db, world.teacher)

    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_disabled_accounts_feed_is_gone(client, db, world):
    url = _feed_url(db, world.teacher)
    world.teacher.is_enabled = False
    db.session.commit()

    assert client.get(url).status_code == 404


def test_the_token_in_another_case_is_not_the_token(client, db, world):
    url = _feed_url(db, world.teacher)
    token = unquote(url.removeprefix("/calendar/").removesuffix(".ics"))
    swapped = token.swapcase()
    if swapped == token:
        pytest.skip("a token without letters")

    assert client.get(f"/calendar/{swapped}.ics").status_code == 404


def test_the_feeds_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, CALENDAR_RATE_LIMIT="3 per minute")
    with app.app_context():
        intake = factories.make_intake(factories.make_program())
        from course_portal.extensions import db as _db

        _db.session.commit()
        client = app.test_client()
        codes = [client.get(f"/intakes/{intake.id}/calendar.ics").status_code,
                 client.get("/calendar/not-a-token-that-was-ever-issued-0000.ics").status_code,
                 client.get(f"/intakes/{intake.id}/calendar.ics").status_code]
        limited = client.get("/calendar/not-a-token-that-was-ever-issued-0000.ics")

    assert codes == [200, 404, 200]
    assert limited.status_code == 429


# --- the public feed of an intake ------------------------------------------------------------


def test_the_public_feed_lists_the_intakes_days_and_modules_and_nobody(client, db, world):
    spring = world.enrolled.intake

    response = client.get(f"/intakes/{spring.id}/calendar.ics?lang=ru")

    events = _events(response)
    body = response.get_data(as_text=True)
    assert _start(_by_summary(events, "начало обучения")) == spring.starts_on
    assert _start(_by_summary(events, "последний день обучения")) == spring.ends_on
    assert _start(_by_summary(events, "модуль 1")) == spring.starts_on
    assert _last_day(_by_summary(events, "модуль 2")) == spring.starts_on + timedelta(days=20)
    close = _by_summary(events, "приём заявок завершается")
    assert _start(close).astimezone(UTC) == datetime.combine(
        spring.applications_close_on, time(20, 59), tzinfo=UTC)
    for personal in ("Ouyang", "欧阳", "娜娜", world.teacher.email, "/applications/"):
        assert personal not in body
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    # the same days carry the same UIDs as in the teacher's own feed
    private = _events(client.get(_feed_url(db, world.teacher)))
    assert f"intake-{spring.id}-start@portal.test" in events
    assert f"intake-{spring.id}-start@portal.test" in private


def test_an_unpublished_or_unknown_intakes_feed_is_a_404(client, db):
    hidden = factories.make_intake(factories.make_program(published=False))
    db.session.commit()

    assert client.get(f"/intakes/{hidden.id}/calendar.ics").status_code == 404
    assert client.get(f"/intakes/{hidden.id + 100}/calendar.ics").status_code == 404


def test_the_program_page_links_each_intakes_feed(client, db, world):
    page = client.get("/programs/IE", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    intakes = db.session.scalars(select(Intake).where(Intake.program_id == world.program.id))

    assert "添加到日历" in page
    for intake in intakes:
        link = f"/intakes/{intake.id}/calendar.ics?lang=zh"
        assert link in page
        _by_summary(_events(client.get(link)), "投资生态系统：开课")


# --- the progress page ---------------------------------------------------------------------


def test_the_progress_page_offers_the_feed_with_a_qr_code(client, login_as, db):
    teacher = login_as("teacher", locale="en")
    factories.make_application(teacher=teacher, intake=factories.make_intake(
        factories.make_program()), status="enrolled")
    db.session.commit()

    page = client.get("/progress").get_data(as_text=True)

    db.session.expire_all()
    token = teacher.calendar_token
    assert token, "the first visit makes the feed's address"
    assert f'href="webcal://portal.test/calendar/{token}.ics"' in page
    assert f'value="http://portal.test/calendar/{token}.ics"' in page
    assert 'src="data:image/png;base64,' in page
    assert "Add it to your phone's calendar:" in html.unescape(page)
    assert "Make a new address" in page
    assert "google" not in page.lower()
    # the next visit shows the same address
    assert f"/calendar/{token}.ics" in client.get("/progress").get_data(as_text=True)


def test_the_progress_page_explains_the_feed_in_chinese(client, login_as):
    login_as("teacher", locale="zh")

    page = client.get("/progress").get_data(as_text=True)

    assert "添加到手机日历：" in page
    assert "生成新地址" in page
