"""Error pages: 403, 404, 429 and 500 with an incident id, never a traceback."""

from __future__ import annotations

import logging
import secrets

from flask import render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def _user_label() -> str:
    try:
        return str(current_user.id) if current_user.is_authenticated else "anonymous"
    except Exception:  # the user may be what failed
        return "unknown"


def _client() -> str:
    return request.remote_addr or "-"


def init_app(app) -> None:
    """Register the handlers."""

    @app.errorhandler(403)
    def forbidden(error):
        log.warning("403 %s %s user=%s ip=%s", request.method, request.path, _user_label(), _client())
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def not_allowed(error):
        return render_template("errors/generic.html", error=error), 405

    @app.errorhandler(413)
    def too_large(error):
        return render_template("errors/413.html"), 413

    @app.errorhandler(429)
    def too_many(error):
        log.warning("429 %s %s user=%s ip=%s limit=%s", request.method, request.path,
                    _user_label(), _client(), getattr(error, "description", ""))
        retry_after = None
        limit = getattr(error, "limit", None)
        if limit is not None:
            retry_after = int(limit.limit.get_expiry())
        response = app.make_response(
            (render_template("errors/429.html", retry_after=retry_after), 429)
        )
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(HTTPException)
    def other_http(error):
        return render_template("errors/generic.html", error=error), error.code

    @app.errorhandler(Exception)
    def internal(error):
        if isinstance(error, HTTPException):
            return other_http(error)
        incident = secrets.token_hex(6)
        log.exception("500 incident=%s %s %s user=%s ip=%s", incident, request.method,
                      request.path, _user_label(), _client())
        try:
            from course_portal.extensions import db

            db.session.rollback()
        except Exception:
            log.exception("rollback after incident %s failed", incident)
        return render_template("errors/500.html", incident=incident), 500
