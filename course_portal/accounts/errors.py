"""What the account rules say when they say no: one error with messages per form field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from course_portal.accounts.models import User
from course_portal.core.domain import DomainError


class AccountError(DomainError):
    """A rule of accounts said no: errors by form field (None for the whole form), or one
    message for the whole form."""

    def __init__(self, errors: dict[str | None, list] | None = None, message=None):
        super().__init__(message=message, errors=errors)


class LoginRefused(AccountError):
    """Sign-in refused: reason is "invalid" (one message for every cause) or "unconfirmed"."""

    def __init__(self, reason: str, user: User | None = None):
        self.reason = reason
        self.user = user
        if reason == "unconfirmed":
            message = _l(
                "Please confirm your email address first. We have sent you a new link; "
                "it may take a few minutes to arrive."
            )
        else:
            message = _l("Email or password is incorrect.")
        super().__init__(message=message)


class TokenError(AccountError):
    """An emailed link that cannot be used: reason is "unknown", "used" or "expired"."""

    def __init__(self, reason: str):
        self.reason = reason
        messages = {
            "unknown": _l("This link is not valid. Check that you opened the whole link from the email."),
            "used": _l("This link has already been used."),
            "expired": _l("This link has expired."),
        }
        super().__init__(message=messages[reason])
