"""The calendar feeds: what each holds, in the reader's language, and the private feed's token.

A teacher's private feed holds the first and last day of each intake they have a seat in, its
modules' dates, the deadline of each draft application and of each seat still to be confirmed.
An intake's public feed holds its days, its modules and the end of its application period,
and nothing about any teacher. Days are all-day events (DATE values, no zone); a deadline is
the last minute of its portal day (23:59 Europe/Moscow) with the zone's VTIMEZONE.

Every event's UID is made of the ids of the rows it shows, so a calendar app that refreshes
the feed moves the event it already has when a date changes, and never doubles it.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import User
from course_portal.catalog.models import Intake, Program
from course_portal.core import audit
from course_portal.core.clock import day_ends_at, now, portal_zone
from course_portal.core.timezones import deadline_text, user_zone_name
from course_portal.enrollment.mail import application_url
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db
from course_portal.progress.models import ModuleSchedule

S = ApplicationStatus

#: bytes of randomness in a feed's token (secrets.token_urlsafe: 43 characters)
TOKEN_BYTES = 32
#: what a token looks like; anything else is not looked up at all
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,64}")
#: statuses whose intake the teacher takes part in: its days and modules are in the feed
TAKING_PART = (S.APPROVED, S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED)
#: the public page of a program, relative to BASE_URL (catalog.program)
PROGRAM_PATH = "/programs/{code}"
#: how often a calendar app should fetch the feed again (RFC 7986 REFRESH-INTERVAL)
REFRESH_INTERVAL = timedelta(hours=6)
PRODID = "-//SPbPU//Course portal//EN"


# --- the private feed's token ----------------------------------------------------------------


def token_for(user: User) -> str:
    """The user's feed token, made on first use (the caller commits)."""
    if user.calendar_token:
        return user.calendar_token
    # only where there is none yet: two first visits at once end with one token, not the
    # second overwriting the address the first page already showed
    db.session.execute(
        update(User)
        .where(User.id == user.id, User.calendar_token.is_(None))
        .values(calendar_token=secrets.token_urlsafe(TOKEN_BYTES)),
        execution_options={"synchronize_session": False},
    )
    db.session.refresh(user, attribute_names=["calendar_token"])
    assert user.calendar_token is not None  # set by this UPDATE, or by the one that came first
    return user.calendar_token


def reset_token(user: User, actor: User) -> str:
    """Give the user's feed a new address; the old one stops working at once (audited)."""
    user.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
    # the token itself is never written down: the audit row only says that it changed
    audit.record("calendar.token_reset", actor=actor, teacher=user, target=user)
    db.session.flush()
    return user.calendar_token


def user_for_token(token: str) -> User | None:
    """The enabled user whose feed has this token, or None."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None  # not a token (too long, a path, a NUL): no query at all
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    # the index finds the row; the bytes are then compared in constant time, and exactly (a
    # database collation may ignore case)
    if user is None or not hmac.compare_digest(user.calendar_token.encode(), token.encode()):
        return None
    return user if user.is_enabled else None


@dataclass(frozen=True)
class FeedLinks:
    """The private feed's addresses: https to copy, webcal:// to subscribe with one tap."""

    https: str
    webcal: str


def feed_links(user: User) -> FeedLinks:
    """The addresses of the user's private feed (its token is made on first use)."""
    url = f"{_base_url()}/calendar/{token_for(user)}.ics"
    return FeedLinks(https=url, webcal="webcal://" + url.split("://", 1)[-1])


# --- the feeds -------------------------------------------------------------------------------


def teacher_calendar(user: User) -> bytes:
    """The user's private feed, in their language: their intakes, modules and deadlines."""
    language = _language(user)
    applications = list(db.session.scalars(
        select(Application)
        .where(Application.teacher_id == user.id,
               Application.status.in_((S.DRAFT, *TAKING_PART)))
        .options(selectinload(Application.intake).selectinload(Intake.program))
        .order_by(Application.id)
    ))
    schedules = _schedules([a.intake_id for a in applications if a.status in TAKING_PART])
    zone = user_zone_name(user)
    events: list[Event] = []
    with force_locale(language):
        for application in applications:
            intake = application.intake
            title = intake.program.t("title", language)
            link = application_url(application)
            if application.status == S.DRAFT:
                events.append(_deadline(
                    f"application-{application.id}-deadline",
                    _("%(program)s: last day to submit your application", program=title),
                    intake.applications_close_on, zone, link))
            if (application.status == S.APPROVED and application.confirm_by is not None
                    and application.confirmed_at is None):
                events.append(_deadline(
                    f"application-{application.id}-confirm-by",
                    _("%(program)s: last day to confirm your seat", program=title),
                    application.confirm_by, zone, link))
            if application.status in TAKING_PART:
                events += _intake_days(intake, title, language, schedules.get(intake.id, []),
                                       link)
        name = _("My SPbPU courses")
    return _render(name, events)


def intake_calendar(intake: Intake, language: str) -> bytes:
    """An intake's public feed in the language: its days, modules and application deadline."""
    program = intake.program
    link = _base_url() + PROGRAM_PATH.format(code=program.code)
    with force_locale(language):
        title = program.t("title", language)
        events = _intake_days(intake, title, language, _schedules([intake.id]).get(intake.id, []),
                              link)
        # the reader's zone is not known: the deadline is told in the portal's and in the
        # zone the page's language suggests (China's for Chinese)
        events.append(_deadline(
            f"intake-{intake.id}-applications-close",
            _("%(program)s: applications close", program=title),
            intake.applications_close_on, None, link))
        name = _("%(program)s (%(intake)s)", program=title, intake=intake.t("title", language))
    return _render(name, events)


def published_intake(intake_id: int) -> Intake | None:
    """An intake of a published program, or None."""
    intake = db.session.get(Intake, intake_id, options=[
        selectinload(Intake.program).selectinload(Program.modules)])
    if intake is None or not intake.program.is_published:
        return None
    return intake


# --- building blocks -------------------------------------------------------------------------


def _intake_days(intake: Intake, title: str, language: str, schedule: list[ModuleSchedule],
                 link: str) -> list[Event]:
    """The intake's first and last day and each scheduled module, as all-day events."""
    events = [
        _all_day(f"intake-{intake.id}-start", _("%(program)s: the course starts", program=title),
                 intake.starts_on, intake.starts_on, intake.t("title", language), link),
        _all_day(f"intake-{intake.id}-end",
                 _("%(program)s: the last day of the course", program=title),
                 intake.ends_on, intake.ends_on, intake.t("title", language), link),
    ]
    for row in schedule:
        module = row.module
        # by intake and module, not by the schedule row's id: clearing a module's dates and
        # setting them again makes a new row, and must not make a new event
        events.append(_all_day(
            f"intake-{intake.id}-module-{module.id}",
            _("%(program)s: module %(position)s, %(module)s", program=title,
              position=module.position, module=module.t("title", language)),
            row.starts_on, row.ends_on, intake.t("title", language), link))
    return events


def _schedules(intake_ids: list[int]) -> dict[int, list[ModuleSchedule]]:
    """The scheduled modules of the intakes, in date order, by intake id."""
    found: dict[int, list[ModuleSchedule]] = {}
    if not intake_ids:
        return found
    rows = db.session.scalars(
        select(ModuleSchedule)
        .where(ModuleSchedule.intake_id.in_(set(intake_ids)))
        .options(selectinload(ModuleSchedule.module))
        .order_by(ModuleSchedule.starts_on, ModuleSchedule.id)
    )
    for row in rows:
        found.setdefault(row.intake_id, []).append(row)
    return found


def _event(uid: str, summary: str, description: str, link: str) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{_host()}")
    event.add("summary", summary)
    if description:
        event.add("description", description)
    event.add("url", link)
    # a subscribed feed is replaced event by event (by UID) at each refresh; SEQUENCE orders
    # the revisions of emailed invitations (iTIP), which this feed never sends, and no row
    # keeps a revision count to derive one from
    event.add("sequence", 0)
    # dates to know, not meetings: the teacher's time stays free
    event.add("transp", "TRANSPARENT")
    return event


def _all_day(uid: str, summary: str, first: date, last: date, description: str,
             link: str) -> Event:
    """An event over whole days, first to last included (DTEND is the day after)."""
    event = _event(uid, summary, description, link)
    event.add("dtstart", first)
    event.add("dtend", last + timedelta(days=1))
    return event


def _deadline(uid: str, summary: str, day: date, zone_name: str | None, link: str) -> Event:
    """The last minute of a portal day (23:59 in the portal's zone), its hour told in the
    description in the portal's zone and the reader's."""
    description = _("Deadline: %(deadline)s.", deadline=deadline_text(day, zone_name))
    event = _event(uid, summary, description, link)
    last_minute = day_ends_at(day).astimezone(portal_zone()).replace(second=0, microsecond=0)
    event.add("dtstart", last_minute)
    return event


def _render(name: str, events: list[Event]) -> bytes:
    """The VCALENDAR of the events, in a stable order, with the VTIMEZONE the deadlines need."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    stamp = now().replace(microsecond=0)
    events.sort(key=lambda event: (_day_of(event.decoded("dtstart")), str(event["uid"])))
    for event in events:
        event.add("dtstamp", stamp)
        calendar.add_component(event)
    timed = [_day_of(e.decoded("dtstart")) for e in events
             if isinstance(e.decoded("dtstart"), datetime)]
    if timed:
        # the zone's rules for the years the events fall in, not 1970 to 2038: a shorter
        # VTIMEZONE, and the same bytes as long as the dates are the same
        calendar.add_missing_timezones(first_date=date(min(timed).year, 1, 1),
                                       last_date=date(max(timed).year + 2, 1, 1))
    return calendar.to_ical()


def _day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _language(user: User) -> str:
    config = current_app.config
    return user.locale if user.locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _host() -> str:
    """The portal's host name: the part of every UID after the @."""
    return urlsplit(_base_url()).hostname or "course-portal"
