"""What every page shares: template helpers, the language switch and security headers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from functools import lru_cache, wraps
from typing import Literal
from urllib.parse import urlsplit

from babel import Locale
from babel.dates import get_date_format, get_datetime_format, get_time_format
from flask import current_app, request
from flask_babel import format_date, format_datetime, format_decimal, ngettext
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # 3.3's; stubs: 3.2

from course_portal.core.domain import DomainError
from course_portal.core.i18n import LANGUAGE_NAMES, current_language, reader_locale_and_zone
from course_portal.core.names import person_name
from course_portal.core.timezones import deadline_text, portal_zone_label, zone_label
from course_portal.extensions import csrf


def put_errors(form, error: DomainError, field_for: Callable | None = None) -> None:
    """Show a service's refusal on the form it answers: each message on its field, or above
    the form (form.form_errors) for the whole form or a field the form does not have.

    field_for(form, name) finds the field of a name that is not simply a field's (a row of a
    FieldList, a file field named by its kind). Messages become text here: Flask-Babel's lazy
    strings count as safe HTML and would skip escaping.
    """
    for name, messages in error.errors.items():
        texts = [str(message) for message in messages]
        if field_for is not None:
            field = field_for(form, name)
        else:
            field = form._fields.get(name) if name else None
        if field is None:
            form.form_errors.extend(texts)
        else:
            field.errors = [*field.errors, *texts]


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target only if it stays on this site (a path, no scheme, no host)."""
    if not target:
        return default
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def options(pairs: Iterable[tuple[object, object]],
            optgroup: str | None = None) -> list[SelectChoice]:
    """A select's options from (value, label) pairs, in the type WTForms takes (it stops
    accepting bare tuples in 3.4); the pairs themselves also serve as labels elsewhere."""
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]


def options_of(pairs: Callable[[], Iterable[tuple[object, object]]]) -> Callable:
    """A field's choices= that reads the pairs each time a form is built, so the labels are
    in the reader's language."""
    return lambda: options(pairs())


def form_view(view: Callable) -> Callable:
    """Exempt a form page from the global CSRF check; its FlaskForm checks the token instead.

    CSRFProtect answers a bad or expired token with a bare 400 page, and the teacher who spent
    half an hour on the registration form loses every entry. FlaskForm validates the same token
    (whenever WTF_CSRF_ENABLED is true), so the page re-renders with what was typed and the
    "this form had expired" message. Every POST branch of such a view must validate its form
    before it changes anything. A refused token is still logged, as the global check logs it.
    """

    @wraps(view)
    def checked(*args, **kwargs):
        if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
            _log_refused_token()
        return view(*args, **kwargs)

    return csrf.exempt(checked)


def _log_refused_token() -> None:
    """Check the request's CSRF token as the form will, and log a refusal with user and IP."""
    from course_portal.core.errors import log_csrf_failure

    token = request.form.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    for header in current_app.config.get("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"]):
        token = token or request.headers.get(header)
    try:
        validate_csrf(token)
    except ValidationError as error:
        log_csrf_failure(error.args[0] if error.args else "refused")


#: the "г." that closes a Russian date, after a space or a narrow no-break space
RUSSIAN_YEAR_MARK = re.compile(r"[\s\u00a0\u202f]г\.$")


#: the styles a locale names its own date and time patterns for
Style = Literal["short", "medium", "long", "full"]
_STYLES: tuple[Style, ...] = ("short", "medium", "long", "full")


@lru_cache(maxsize=64)
def _moment_patterns(locale: Locale, style: Style):
    """A locale's moment in this style as Babel builds it: the pattern joining date and time
    (quotes dropped, as Babel does), the time's pattern and the date's, parsed once."""
    return (str(get_datetime_format(style, locale)).replace("'", ""),
            get_time_format(style, locale), get_date_format(style, locale))


def _format_day(value: date | str | None, style: str = "medium") -> str:
    """A date in the reader's format; ISO strings (frozen certificate snapshots) too, and a
    moment's day in the reader's zone."""
    if isinstance(value, str):
        value = date.fromisoformat(value) if value else None
    if not value:
        return ""
    if style in _STYLES:
        locale, zone = reader_locale_and_zone()
        if isinstance(value, datetime):  # a moment's day is the reader's, as Babel rebases it
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
            value = value.date()
        text = _moment_patterns(locale, style)[2].apply(value, locale)
    else:
        text = format_date(value, style)
    # Russian dates end in "г." (3 мар. 2027 г.): a sentence ending in a date would read
    # "г.."; the year needs no abbreviation after it
    if current_language() == "ru":
        text = RUSSIAN_YEAR_MARK.sub("", text)
    return text


def _format_size(size: int | None) -> str:
    """A file's size in the reader's language: 850 KB, 12,3 МБ, 120 字节."""
    if size is None:
        return ""
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(round(size / 1024), "#,##0"))
    return _("%(size)s MB", size=format_decimal(size / (1024 * 1024), "#,##0.0"))


def format_moment(value: datetime | None, style: str = "medium") -> str:
    """A moment in the reader's zone and format: what flask_babel.format_datetime writes,
    without looking the locale, zone and three patterns up again for each of a page's moments
    (a queue of 50 rows spent 7 ms on that)."""
    if not value:
        return ""
    if style not in _STYLES:
        return format_datetime(value, style)
    locale, zone = reader_locale_and_zone()
    joined, time_pattern, date_pattern = _moment_patterns(locale, style)
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    return (joined
            .replace("{0}", time_pattern.apply(local.timetz(), locale,
                                               reference_date=local.date()))
            .replace("{1}", date_pattern.apply(local.date(), locale)))


def machine_moment(value: datetime | None) -> str:
    """A moment for a `<time datetime>` attribute: UTC to the second, 2026-12-03T15:06:33Z.

    isoformat() writes microseconds, which HTML's date and time syntax does not allow (three
    digits of a second at most), and the reader's zone would only add a way to get it wrong.
    A naive value is taken as UTC, as the portal stores every moment.
    """
    if not value:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def init_app(app) -> None:
    """Template globals, filters and response headers."""
    app.jinja_env.filters["day"] = _format_day
    # Jinja's own says "Bytes" and "kB" in English on every page
    app.jinja_env.filters["filesizeformat"] = _format_size
    app.jinja_env.filters["moment"] = format_moment
    app.jinja_env.filters["machine_moment"] = machine_moment
    app.jinja_env.filters["person_name"] = person_name
    app.jinja_env.filters["deadline"] = deadline_text

    @app.context_processor
    def _globals():
        return {
            "language_names": LANGUAGE_NAMES,
            "current_language": current_language(),
            "reader_zone": zone_label,
            "portal_zone_label": portal_zone_label,
        }

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if current_app.config["HTTPS"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static" and response.mimetype == "text/html":
            # pages may show personal data; only static files are cached
            headers.setdefault("Cache-Control", "no-store")
        return response
