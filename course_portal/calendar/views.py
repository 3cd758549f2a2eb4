"""The calendar feeds as .ics addresses, and the teacher's button that gives theirs a new one."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from course_portal.accounts.models import Role, User
from course_portal.calendar import services
from course_portal.certificates.qr import qr_png_data_uri
from course_portal.core.i18n import current_language
from course_portal.core.permissions import public, role_required
from course_portal.extensions import db, limiter

bp = Blueprint("calendar", __name__)


def _feed_limit() -> str:
    return current_app.config["CALENDAR_RATE_LIMIT"]


#: one budget for both feeds, per client address: guessing tokens costs the same as anything
feed_limit = limiter.shared_limit(_feed_limit, scope="calendar.feed")


def _ics(body: bytes, *, private: bool):
    """A feed's response: iCalendar in UTF-8, never indexed; a private one never stored."""
    response = current_app.response_class(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store" if private else "public, max-age=900"
    return response


@bp.get("/calendar/<token>.ics")
@public
@feed_limit
def feed(token: str):
    """A teacher's private feed; the same 404 for every token that is not a live one."""
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    return _ics(services.teacher_calendar(user), private=True)


@bp.get("/intakes/<int:intake_id>/calendar.ics")
@public
@feed_limit
def intake(intake_id: int):
    """An intake's public feed, in ?lang= (the page's language that linked it) or the reader's."""
    found = services.published_intake(intake_id)
    if found is None:
        abort(404)
    language = request.args.get("lang", "")
    if language not in current_app.config["LANGUAGES"]:
        language = current_language()
    return _ics(services.intake_calendar(found, language), private=False)


@bp.post("/calendar/reset")
@role_required(Role.TEACHER)
def reset():
    """Give the teacher's feed a new address (a button; the global CSRF check guards it)."""
    teacher = current_user._get_current_object()
    services.reset_token(teacher, actor=teacher)
    db.session.commit()
    flash(_("Your calendar has a new address. Add it to your calendar again: the old address "
            "no longer works."), "success")
    return redirect(url_for("progress.mine"))


def subscribe_context(user: User) -> dict:
    """What templates/calendar/_subscribe.html shows: the feed's addresses and their QR code.

    The token is made on the teacher's first visit: the caller commits.
    """
    links = services.feed_links(user)
    return {"calendar_links": links, "calendar_qr": qr_png_data_uri(links.https)}
