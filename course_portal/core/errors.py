"""Error pages: 403, 404, 429, 503 (database unreachable) and 500 with an incident id, never a traceback."""

from __future__ import annotations

import logging
import secrets

from flask import render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
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


#: the 503 page when the real one cannot render (the database is what failed)
FALLBACK_503 = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Please try again</title></head>
<body>
<main>
<h1>The portal is busy for a moment</h1>
<p>Nothing you sent was half-saved. Please try again in a few seconds.</p>
<p lang="zh-Hans">系统暂时繁忙，您提交的内容没有被部分保存。请稍后再试。</p>
<p lang="ru">Портал временно недоступен. Ничего не сохранено наполовину. Попробуйте ещё раз через несколько секунд.</p>
<p><a href="/">Back to the programs</a></p>
</main>
</body>
</html>
"""

#: seconds a client is asked to wait after the database went away
RETRY_AFTER_SECONDS = 5


def is_database_unavailable(error: BaseException) -> bool:
    """True for a lost or refused database connection (a restart, a failover, a full pool).

    PostgreSQL's OperationalError covers "server closed the connection", "terminating
    connection due to administrator command", a refused connection and a cancelled statement;
    SQLite's only "database is locked". Any DBAPI error on a connection SQLAlchemy has just
    invalidated counts too. Integrity and programming errors stay 500s: a retry cannot help.
    """
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__ == "sqlite3":
        # SQLite says OperationalError for a missing table too: only a lock is worth a retry
        message = str(error.orig).lower()
        return "locked" in message or "busy" in message
    return True


def _retry_page(error: BaseException):
    """Roll back what the request wrote and ask the client to try again: 503 with Retry-After.

    The transaction was the request's only one, so rolling it back leaves nothing half-written
    (the files it stored are deleted by enrollment.documents' rollback hook). The pool's
    pre-ping replaces the dead connections, so the next request works without a restart.
    """
    log.warning("503 database unavailable %s %s ip=%s: %s", request.method, request.path,
                _client(), type(getattr(error, "orig", None) or error).__name__)
    try:
        from course_portal.extensions import db

        db.session.rollback()
    except Exception:  # noqa: BLE001 (the connection is gone; the session is reset anyway)
        log.debug("rollback after a lost database connection failed", exc_info=True)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    try:
        body = render_template("errors/503.html", retry_after=RETRY_AFTER_SECONDS)
    except Exception:  # noqa: BLE001 (the page's language comes from the user, in the database)
        log.debug("the 503 page could not be rendered; sent the plain one", exc_info=True)
        body = FALLBACK_503
    return body, 503, headers


def _user_label() -> str:
    try:
        return str(current_user.id) if current_user.is_authenticated else "anonymous"
    except Exception:  # noqa: BLE001 (the user may be what failed)
        return "unknown"


def _client() -> str:
    return request.remote_addr or "-"


def log_csrf_failure(reason: str) -> None:
    """Log a refused CSRF token with the user and address (never the token itself)."""
    from course_portal.core.logsafe import loggable

    log.warning("CSRF failure %s %s user=%s ip=%s: %s", request.method, loggable(request.path),
                _user_label(), _client(), reason)


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


def _release_session(exc) -> None:
    """End the request's session even when its connection died after the response was made.

    Flask-SQLAlchemy's own teardown rolls back on close; on a connection the database has
    just dropped (a restart between the commit and the end of the request), that rollback
    raises and the server would turn a finished response into a 500. There is nothing left
    to roll back on a dead connection, so invalidate it instead. Registered after
    Flask-SQLAlchemy's teardown, so it runs before it.
    """
    from course_portal.extensions import db

    try:
        db.session.remove()
    except DBAPIError as error:
        if not is_database_unavailable(error):
            raise
        log.warning("database connection lost at the end of a request: %s",
                    type(error.orig).__name__)
        db.session().invalidate()
        db.session.remove()


def init_app(app) -> None:
    """Register the handlers."""
    app.teardown_appcontext(_release_session)

    @app.errorhandler(403)
    def forbidden(error):
        from course_portal.core.logsafe import loggable

        log.warning("403 %s %s user=%s ip=%s", request.method, loggable(request.path),
                    _user_label(), _client())
        return render_template("errors/403.html"), 403

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        log_csrf_failure(error.description)
        return render_template("errors/generic.html", error=error), 400

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
        # a view's own message (abort(503, description=_("…"))), never werkzeug's English one
        message = vars(error).get("description")
        return render_template("errors/generic.html", error=error, message=message), error.code

    @app.errorhandler(500)
    def server_error(error):
        # Flask's last resort, e.g. when another error page failed to render
        return _incident_page(getattr(error, "original_exception", None) or error)

    @app.errorhandler(DBAPIError)
    def database_error(error):
        if is_database_unavailable(error):
            return _retry_page(error)
        return _incident_page(error)

    @app.errorhandler(Exception)
    def internal(error):
        if isinstance(error, HTTPException):
            return other_http(error)
        return _incident_page(error)
