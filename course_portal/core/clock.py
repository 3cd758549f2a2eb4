"""The portal's one clock: the moment now, and today in the portal's time zone.

Everything that depends on the time reads it here (column defaults, deadlines, the timed steps
of course_portal.core.steps), so tests move the whole portal with time-machine and nothing
sleeps. Moments are aware datetimes in UTC; days of intakes and deadlines are days of
PORTAL_TIMEZONE (Europe/Moscow by default).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

#: the portal's zone when no application is at hand (a model default outside a request)
DEFAULT_PORTAL_TIMEZONE = "Europe/Moscow"


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


def portal_zone() -> ZoneInfo:
    """The zone whose days are the days of intakes and deadlines."""
    name = (current_app.config["PORTAL_TIMEZONE"] if has_app_context()
            else DEFAULT_PORTAL_TIMEZONE)
    return ZoneInfo(name)


def portal_today() -> date:
    """Today's date where deadlines are read (the portal's time zone)."""
    return now().astimezone(portal_zone()).date()


def day_starts_at(day: date) -> datetime:
    """The first moment of a portal day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=portal_zone()).astimezone(UTC)


def day_ends_at(day: date) -> datetime:
    """The last moment of a portal day (23:59:59.999999 there), in UTC."""
    return day_starts_at(day + timedelta(days=1)) - timedelta(microseconds=1)
