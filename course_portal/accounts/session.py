"""Flask-Login wiring and the rules every request of a signed-in user passes.

A session is valid only while its token matches the user's. Staff (coordinators, admins,
partner liaisons) are signed out after STAFF_IDLE_MINUTES without a request and
STAFF_MAX_SESSION_HOURS after signing in, and see nothing but the setup page until their
two-step sign-in is set up.
"""

from __future__ import annotations

import hmac
import logging
import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, logout_user

from course_portal.accounts.models import User
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: session keys: when the user signed in, and when they last opened a page (seconds, UTC)
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
#: how often the last-seen mark is renewed: the idle timeout is exact to this many seconds
SEEN_RESOLUTION_SECONDS = 60
#: session key of a sign-in waiting for its two-step code
PENDING = "two_factor_pending"

#: what a staff member without two-step sign-in may still open
SETUP_ALLOWED_ENDPOINTS = frozenset({
    "accounts.two_factor_setup", "accounts.logout", "accounts.set_language", "static",
})


def now() -> float:
    """Seconds since the epoch; the clock of sessions."""
    return time.time()


def load_user(session_id: str) -> User | None:
    """Find the user of a session cookie "id:token"; a replaced token ends the session."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def start_clock(store=None, at: float | None = None) -> None:
    """Mark the session as signed in at `at` (now): the staff time limits count from here."""
    store = session if store is None else store
    moment = now() if at is None else at
    store[SIGNED_IN_AT] = moment
    store[SEEN_AT] = moment


# --- the pending two-step sign-in -------------------------------------------------------


def await_code(user: User, target: str | None, remember: bool) -> None:
    """The password was right: wait for the code, bound to the user's current session token."""
    session[PENDING] = {
        "user": user.id,
        "token": user.session_token,
        "until": now() + current_app.config["TWO_FACTOR_PENDING_SECONDS"],
        "next": target or "",
        "remember": bool(remember),
    }


def pending_sign_in() -> tuple[User, dict] | None:
    """The user waiting for their code and the pending state; None when expired or invalid.

    A password change, a reset, a disabled account or a reset of two-step sign-in replaces the
    session token, which ends a pending sign-in too.
    """
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < now():
        return None
    user = db.session.get(User, pending.get("user") or 0)
    if (user is None or not user.is_active
            or not hmac.compare_digest(user.session_token, str(pending.get("token", "")))):
        return None
    return user, pending


def pending_user_key() -> str:
    """Rate-limit key of the account waiting for its code."""
    pending = session.get(PENDING)
    return f"two-factor:{pending.get('user')}" if isinstance(pending, dict) else "two-factor:-"


def no_pending_sign_in() -> bool:
    return not isinstance(session.get(PENDING), dict)


# --- every request ----------------------------------------------------------------------


def _end_session(message) -> object:
    """Sign the user out of this browser and send them to sign in again, back to this page."""
    language = session.get("locale")
    session.clear()
    logout_user()
    if language:
        session["locale"] = language
    flash(message, "info")
    target = None
    if request.method == "GET":
        target = request.full_path if request.query_string else request.path
    return redirect(url_for("accounts.login", next=target))


def check_staff_session():
    """End a staff session unused for STAFF_IDLE_MINUTES or older than STAFF_MAX_SESSION_HOURS."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    if not current_user.needs_two_factor:
        return None
    moment = now()
    # a session without the marks (signed in before they existed) starts its clock now
    started = session.setdefault(SIGNED_IN_AT, moment)
    seen = session.get(SEEN_AT, moment)
    idle_minutes = current_app.config["STAFF_IDLE_MINUTES"]
    max_hours = current_app.config["STAFF_MAX_SESSION_HOURS"]
    if moment - started > max_hours * 3600:
        log.info("staff session of user %s ended: older than %s hours", current_user.id, max_hours)
        return _end_session(ngettext(
            "Staff sessions last at most %(num)d hour. Please sign in again.",
            "Staff sessions last at most %(num)d hours. Please sign in again.",
            max_hours,
        ))
    if moment - seen > idle_minutes * 60:
        log.info("staff session of user %s ended: idle for more than %s minutes",
                 current_user.id, idle_minutes)
        return _end_session(ngettext(
            "You were signed out after %(num)d minute without activity. Please sign in again.",
            "You were signed out after %(num)d minutes without activity. Please sign in again.",
            idle_minutes,
        ))
    if moment - seen >= SEEN_RESOLUTION_SECONDS or SEEN_AT not in session:
        # not on every page: rewriting the cookie each time costs more than the minute it adds
        session[SEEN_AT] = moment
    return None


def staff_clock_is_quiet() -> bool:
    """The staff session's marks are within its limits and its last-seen mark is recent, so
    check_staff_session would let the request through without a word and without a write.
    For the page cache, which serves a kept page before the user is loaded."""
    started, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return False
    moment = now()
    max_seconds = current_app.config["STAFF_MAX_SESSION_HOURS"] * 3600
    return moment - seen < SEEN_RESOLUTION_SECONDS and moment - started <= max_seconds


def require_two_factor_setup():
    """Send a staff member without two-step sign-in to its setup page from every other page."""
    if request.endpoint in SETUP_ALLOWED_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated or not current_user.needs_two_factor:
        return None
    if current_user.has_two_factor:
        return None
    return redirect(url_for("accounts.two_factor_setup"))


def init_login(app, login_manager) -> None:
    """Configure the login manager and the per-request session rules."""
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(check_staff_session)
    app.before_request(require_two_factor_setup)
