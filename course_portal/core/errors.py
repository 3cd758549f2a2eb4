"""Error pages: 403, 404, 429 and 500 with an incident id, never a traceback."""

from __future__ import annotations

import logging
import secrets

from flask import render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: the 500 page when the real one cannot render (its language comes from the signed-in user,
#: who is loaded from the database, which may be what failed): no template, no translation
FALLBACK_500 = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Something went wrong</title></head>
<body>
<main>
<h1>Something went wrong on our side</h1>
<p lang="zh-Hans">系统出现故障，请稍后再试。</p>
<p lang="ru">Произошла ошибка на нашей стороне. Попробуйте ещё раз через минуту.</p>
<p>If it happens again, tell the coordinator this incident number:
<code class="incident">{incident}</code></p>
<p><a href="/">Back to the programs</a></p>
</main>
</body>
</html>
"""


def _user_label() -> str:
    try:
        return str(current_user.id) if current_user.is_authenticated else "anonymous"
    except Exception:  # noqa: BLE001 (the user may be what failed)
        return "unknown"


def _client() -> str:
    return request.remote_addr or "-"


def _incident_page(error: BaseException):
    """Log the failure under a new incident id and show that id, never the traceback."""
    incident = secrets.token_hex(6)
    log.error("500 incident=%s %s %s user=%s ip=%s", incident, request.method, request.path,
              _user_label(), _client(), exc_info=error)
    try:
        from course_portal.extensions import db

        db.session.rollback()
    except Exception:  # noqa: BLE001 (the database may be what failed)
        log.exception("rollback after incident %s failed", incident)
    try:
        return render_template("errors/500.html", incident=incident), 500
    except Exception:  # noqa: BLE001 (the page needs the user and the locale; they may be gone)
        log.exception("the page for incident %s could not be rendered; sent the plain one", incident)
        return FALLBACK_500.format(incident=incident), 500


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

    @app.errorhandler(500)
    def server_error(error):
        # Flask's last resort, e.g. when another error page failed to render
        return _incident_page(getattr(error, "original_exception", None) or error)

    @app.errorhandler(Exception)
    def internal(error):
        if isinstance(error, HTTPException):
            return other_http(error)
        return _incident_page(error)
