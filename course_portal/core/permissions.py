"""Who may open what: role checks for views and the list of public endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from course_portal.accounts.models import Role


def public(view: Callable) -> Callable:
    """Mark a view as open to anonymous visitors; a test proves every unmarked route is not."""
    view.is_public = True  # type: ignore[attr-defined]  # a marker read by is_public()
    return view


def is_public(view: Callable) -> bool:
    """True for views marked with @public (and Flask's static files)."""
    return getattr(view, "is_public", False)


def role_required(*roles: Role) -> Callable:
    """Let only signed-in users holding one of the roles through; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
