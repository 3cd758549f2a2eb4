"""Flask-Login wiring: a session is valid only while its token matches the user's."""

from __future__ import annotations

import hmac

from flask_babel import lazy_gettext as _l

from course_portal.accounts.models import User
from course_portal.extensions import db


def load_user(session_id: str) -> User | None:
    """Find the user of a session cookie "id:token"; a replaced token ends the session."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def init_login(app, login_manager) -> None:
    """Configure the login manager."""
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
