"""Moments and days as pages print them: the portal's quick formatters write exactly what
Flask-Babel's format_datetime and format_date write, in every language, zone and style."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import g
from flask_babel import format_date, format_datetime, get_locale, gettext, lazy_gettext
from pytz import timezone

from course_portal.core import web

LANGUAGES = ("en", "zh", "ru")
ZONES = ("UTC", "Asia/Shanghai", "Europe/Moscow", "America/New_York", "Asia/Kolkata")
STYLES = ("short", "medium", "long", "full")


def _moments() -> list[datetime]:
    rng = random.Random(2026)
    moments = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**8))
               for _ in range(60)]
    # the hours New York's clocks skip and repeat, a naive (stored) moment, midnight in Moscow
    return moments + [datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
                      datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                      datetime(2026, 6, 30, 21, 0), datetime(2026, 12, 31, 21, 0, tzinfo=UTC)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("zone", ZONES)
def test_a_moment_reads_as_babel_writes_it_in_the_readers_language_and_zone(app, language, zone):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        get_locale()
        g._flask_babel.babel_tzinfo = timezone(zone)
        for style in STYLES:
            for moment in _moments():
                assert web.format_moment(moment, style) == format_datetime(moment, style), (
                    language, zone, style, moment)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("zone", ZONES)
def test_a_day_reads_as_babel_writes_it_without_the_russian_year_mark(app, language, zone):
    """A day as it is; a moment's day in the reader's zone (revoked on 5 December in Moscow
    when it is still the 4th in UTC)."""
    with app.test_request_context("/", headers={"Accept-Language": language}):
        get_locale()
        g._flask_babel.babel_tzinfo = timezone(zone)
        for style in STYLES:
            for value in [*_moments(), *(moment.date() for moment in _moments())]:
                expected = format_date(value, style)
                if language == "ru":
                    expected = web.RUSSIAN_YEAR_MARK.sub("", expected)
                assert web._format_day(value, style) == expected, (language, zone, style, value)
        assert web._format_day(date(2027, 3, 3).isoformat(), "long") == web._format_day(
            date(2027, 3, 3), "long")
        assert web.format_moment(None) == "" and web._format_day("") == ""


def test_a_forced_locale_is_honoured_by_lazy_labels_and_moments(app):
    """An email forces its reader's language inside a page's request: the kept catalog and the
    moment's patterns follow the forced locale, and return to the page's after."""
    from flask_babel import force_locale

    moment = datetime(2026, 12, 4, 9, 5, tzinfo=UTC)
    label = lazy_gettext("Status")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        english = (str(label), web.format_moment(moment, "long"))
        with force_locale("ru"):
            assert str(label) == gettext("Status") != english[0]
            assert web.format_moment(moment, "long") == format_datetime(moment, "long")
            assert web.format_moment(moment, "long") != english[1]
        assert (str(label), web.format_moment(moment, "long")) == english
