"""Times in the reader's own zone; days of intakes and deadlines in the portal's, saying so.

Moments are stored in UTC. Flask-Babel formats them in the zone reader_zone_name() gives:
the user's choice in the profile, else their role's default (teachers and partner liaisons
Asia/Shanghai, staff the portal's zone), else, for a visitor, Beijing time when they read
Chinese and the portal's zone otherwise. A deadline is a day of the portal's zone that ends at
23:59 there; deadline_text() says when that is for the reader when their zone differs.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import format_date, get_timezone_name
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from course_portal.core import clock

#: where most teachers are
TEACHER_ZONE = "Asia/Shanghai"
#: the zones offered first in the profile; any IANA zone name is accepted
COMMON_ZONES = (
    "Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Taipei", "Europe/Moscow",
    "Europe/Kaliningrad", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Novosibirsk",
    "Asia/Irkutsk", "Asia/Vladivostok", "UTC",
)


@cache
def _known_zones() -> frozenset[str]:
    """Every zone name of this machine's tz database, read once per process (walking the
    database's folders took 17 ms, and every page asks through the reader's zone)."""
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """True for an IANA zone name this machine knows."""
    return isinstance(name, str) and name in _known_zones()


def default_zone_name(user) -> str:
    """A user's zone when they chose none: teachers and liaisons Beijing, staff the portal's."""
    from course_portal.accounts.models import Role

    if user is not None and getattr(user, "role", None) in (Role.TEACHER, Role.PARTNER_LIAISON):
        return TEACHER_ZONE
    return clock.portal_zone().key


def user_zone_name(user) -> str:
    """The zone a user reads times in: their choice, else their role's default."""
    chosen = getattr(user, "timezone", "") or ""
    return chosen if is_zone(chosen) else default_zone_name(user)


def reader_zone_name() -> str:
    """Flask-Babel's timezone selector: the zone of whoever reads this page or email."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return user_zone_name(current_user)
    locale = get_locale()
    if has_request_context() and locale is not None and locale.language == "zh":
        return TEACHER_ZONE
    return clock.portal_zone().key


def zone_label(name: str | None = None) -> str:
    """The zone as the reader's language names it: 中国标准时间, Moscow Standard Time."""
    name = name or reader_zone_name()
    locale = get_locale() or "en"
    return get_timezone_name(ZoneInfo(name), width="long", locale=locale)


def portal_zone_label() -> str:
    """The portal's zone as the reader's language names it."""
    return zone_label(clock.portal_zone().key)


def zone_choices() -> list[tuple[str, str]]:
    """The zones offered in the profile, each with its name in the reader's language."""
    return [(name, f"{zone_label(name)} ({name})") for name in COMMON_ZONES]


def deadline_text(day: date, zone_name: str | None = None) -> str:
    """When a portal day ends, in the portal's zone and, when it differs, in the reader's
    (zone_name: a given reader's, e.g. an email's recipient; else whoever reads the page).

    "January 20, 2027 23:59 (Moscow Time) — January 21, 2027 04:59 (China Time)"
    """
    locale = get_locale() or "en"
    end = clock.day_ends_at(day)
    portal = clock.portal_zone()
    reader = ZoneInfo(zone_name or reader_zone_name())
    here = _("%(moment)s (%(zone)s)", moment=_format(end, portal, locale),
             zone=zone_label(portal.key))
    if reader.key == portal.key or _offset(end, reader) == _offset(end, portal):
        return here
    there = _("%(moment)s (%(zone)s)", moment=_format(end, reader, locale),
              zone=zone_label(reader.key))
    return f"{here} — {there}"


def _format(moment: datetime, zone: ZoneInfo, locale) -> str:
    local = moment.astimezone(zone)
    return f"{format_date(local.date(), 'long', locale=locale)} {local.strftime('%H:%M')}"


def _offset(moment: datetime, zone: ZoneInfo):
    return moment.astimezone(zone).utcoffset()


def local_naive(moment: datetime | None, zone_name: str | None = None) -> datetime | None:
    """A moment in the reader's zone without the zone, to the second: what a spreadsheet cell
    can hold (it stores no zone, so the column's header names it: zoned_header())."""
    if moment is None:
        return None
    zone = ZoneInfo(zone_name or reader_zone_name())
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


class ZonedHeader:
    """A column header that names the reader's zone when it is written: "Submitted at (%(zone)s)"."""

    def __init__(self, text):
        self.text = text

    def __str__(self) -> str:
        return str(self.text) % {"zone": reader_zone_name()}
