"""Accounts: registration, confirmation, sign-in and passwords; the rules live here (profiles:
profiles.py).

Nothing here touches request, session or flash: the views, the CLI and the tests call the same
functions with plain values, and commit.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from course_portal.accounts import consent
from course_portal.accounts.errors import AccountError, LoginRefused, TokenError
from course_portal.accounts.models import (
    AccountToken,
    Role,
    TeacherProfile,
    User,
)
from course_portal.accounts.profiles import check_locale, profile_values
from course_portal.core import audit
from course_portal.core.outbox import queue_email
from course_portal.db import execute_dml, utcnow
from course_portal.extensions import db

log = logging.getLogger(__name__)

CONFIRM_EMAIL = "confirm_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 (a token purpose, not a password)
PASSWORD_MAX_LENGTH = 256
#: tokens are token_urlsafe(32), 43 characters; anything much longer is not one of ours
TOKEN_MAX_LENGTH = 100

#: a hash per method, checked when no account matches so that both answers take as long
_DUMMY_HASHES: dict[str, str] = {}


# --- text and passwords -----------------------------------------------------------------


def normalize_email(value: str | None) -> str:
    """An email address as it is stored: NFC, trimmed, lower-cased."""
    return unicodedata.normalize("NFC", value or "").strip().lower()


def normalize_password(password: str) -> str:
    """NFKC, so that the same password typed on another keyboard (full-width, composed) matches."""
    return unicodedata.normalize("NFKC", password or "")


def password_problems(password: str) -> list:
    """What is wrong with a new password, as messages; empty when it is good."""
    normal = normalize_password(password)
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(normal) < minimum:
        return [_l("The password needs at least %(num)d characters.", num=minimum)]
    if len(normal) > PASSWORD_MAX_LENGTH:
        return [_l("The password can have at most %(num)d characters.", num=PASSWORD_MAX_LENGTH)]
    if not normal.strip():
        return [_l("The password cannot be only spaces.")]
    return []


def hash_password(password: str) -> str:
    """Hash a password with the configured method, after NFKC normalisation."""
    return generate_password_hash(
        normalize_password(password), method=current_app.config["PASSWORD_HASH_METHOD"]
    )


def check_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash (normalised the same way as when hashed)."""
    return check_password_hash(password_hash, normalize_password(password))


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _DUMMY_HASHES[method]


def _needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the configured method."""
    return password_hash.split("$", 1)[0] != _dummy_hash().split("$", 1)[0]


def _check_new_password(password: str, field: str = "password") -> None:
    problems = password_problems(password)
    if problems:
        raise AccountError({field: problems})


def _valid_email(email: str) -> str:
    email = normalize_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError({"email": [_l("This is not a valid email address.")]}) from exc
    return email


def user_by_email(email: str) -> User | None:
    """The user with this email address, in any case, or None."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


# --- tokens and links -------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _issue_token(user: User, purpose: str, max_age_seconds: int) -> str:
    """Store the hash of a new token and return the token itself, which goes only in the email."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user=user,
            purpose=purpose,
            token_hash=_digest(token),
            expires_at=utcnow() + timedelta(seconds=max_age_seconds),
        )
    )
    return token


def _find_token(token: str, purpose: str) -> AccountToken:
    """The stored token, usable now; TokenError when it is unknown, used or expired."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise TokenError("unknown")
    record = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _digest(token), AccountToken.purpose == purpose
        )
    )
    if record is None:
        raise TokenError("unknown")
    if record.used_at is not None:
        raise TokenError("used")
    if record.expires_at <= utcnow():
        raise TokenError("expired")
    return record


def _use_token(token: str, purpose: str) -> AccountToken:
    """Mark a token used, once: of two requests racing with the same link only one wins."""
    record = _find_token(token, purpose)
    result = execute_dml(
        update(AccountToken)
        .where(AccountToken.id == record.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TokenError("used")
    db.session.refresh(record)
    return record


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link built from config BASE_URL, never from the request's Host header."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def _hours(seconds: int) -> int:
    return max(1, round(seconds / 3600))


def send_confirmation(user: User) -> None:
    """Mail the user a new link that confirms their email address."""
    max_age = current_app.config["EMAIL_CONFIRM_MAX_AGE"]
    token = _issue_token(user, CONFIRM_EMAIL, max_age)
    queue_email(
        user.email,
        "account_confirm",
        locale=user.locale,
        kind="account.confirm",
        user=user,
        link=external_url("accounts.confirm_email", token=token),
        hours=_hours(max_age),
    )


# --- registration and confirmation ------------------------------------------------------


def register_teacher(*, email: str, password: str, locale: str,
                     consents: Iterable[str] = (), consent_language: str | None = None,
                     **profile: Any) -> None:
    """Register a teacher, or tell the owner of an existing address; both look the same outside.

    consents are the ConsentKinds ticked beside their texts, read in consent_language (the
    page's language; the locale by default); a new account records them (accounts.consent).

    A new address gets an unconfirmed account and a confirmation link. An address that already
    has an account gets no new one: its owner is told that someone tried, with links to sign in
    and to reset the password. The password is hashed in both cases so both take as long.
    Registration must be the first write of its transaction (a lost race is rolled back).
    """
    email = _valid_email(email)
    _check_new_password(password)
    password_hash = hash_password(password)
    locale = check_locale(locale)
    values = profile_values(profile)
    existing = user_by_email(email)
    if existing is None:
        user = User(email=email, password_hash=password_hash, role=Role.TEACHER, locale=locale)
        user.profile = TeacherProfile(**values)
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:
            # the same address registered at the same moment (a double click): answer as if
            # it had existed before
            db.session.rollback()
            existing = user_by_email(email)
            if existing is None:
                raise
        else:
            send_confirmation(user)
            audit.record("user.created", actor=user, teacher=user, target=user, role="teacher")
            consent.give(user, consents, consent_language or locale)
            log.info("registered teacher %s", user.id)
            return
    queue_email(
        existing.email,
        "account_exists",
        locale=existing.locale,
        kind="account.exists",
        user=existing,
        login_link=external_url("accounts.login"),
        reset_link=external_url("accounts.reset_request"),
    )
    log.info("registration attempted for the existing account %s", existing.id)


def confirm_email(token: str) -> User:
    """Use a confirmation link and return its user, now confirmed; TokenError otherwise."""
    record = _use_token(token, CONFIRM_EMAIL)
    user = record.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record("user.email_confirmed", actor=user, target=user)
        log.info("user %s confirmed their email address", user.id)
    return user


# --- sign-in ----------------------------------------------------------------------------


def sign_out_everywhere(user: User) -> None:
    """End every session and remember-me cookie of the user, on every device."""
    user.end_all_sessions()
    audit.record("auth.signed_out_everywhere", actor=user, target=user)
    log.info("user %s signed out everywhere", user.id)


def record_sign_in(user: User, method: str = "password") -> None:
    """Write down that the user's session has started: after the password, or after its code."""
    audit.record("auth.signed_in", actor=user, target=user, method=method)


def authenticate(email: str, password: str) -> User:
    """The user these credentials sign in, with last_login_at set; LoginRefused otherwise.

    An unknown address, a wrong password and a disabled account give the same refusal after
    the same work. An unconfirmed account with the right password gets a new confirmation link.
    """
    user = user_by_email(email)
    if user is None:
        check_password(_dummy_hash(), password)
        # nothing of what was typed: the address field may hold a password typed in the wrong box
        audit.record("auth.sign_in_failed", reason="unknown_account")
        raise LoginRefused("invalid")
    if not check_password(user.password_hash, password) or not user.is_enabled:
        audit.record("auth.sign_in_failed", actor=user, target=user,
                     reason="disabled" if not user.is_enabled else "password")
        raise LoginRefused("invalid", user=user)
    if user.email_confirmed_at is None:
        send_confirmation(user)
        raise LoginRefused("unconfirmed", user=user)
    if _needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


# --- passwords --------------------------------------------------------------------------


def _tell_password_changed(user: User) -> None:
    queue_email(
        user.email,
        "account_password_changed",
        locale=user.locale,
        kind="account.password_changed",
        user=user,
        reset_link=external_url("accounts.reset_request"),
    )


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Replace the password after checking the current one; every session of the user ends."""
    if not check_password(user.password_hash, current_password):
        raise AccountError({"current_password": [_l("This is not your current password.")]})
    _check_new_password(new_password, "new_password")
    user.password_hash = hash_password(new_password)
    user.end_all_sessions()
    _tell_password_changed(user)
    audit.record("auth.password_changed", actor=user, target=user)
    log.info("user %s changed their password", user.id)


def request_password_reset(email: str) -> None:
    """Mail a reset link to an enabled account with this address; do nothing for others."""
    user = user_by_email(email)
    if user is None or not user.is_enabled:
        log.info("password reset asked for an address without an enabled account")
        return
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    token = _issue_token(user, RESET_PASSWORD, max_age)
    queue_email(
        user.email,
        "account_reset",
        locale=user.locale,
        kind="account.reset",
        user=user,
        link=external_url("accounts.reset_password", token=token),
        minutes=max(1, round(max_age / 60)),
    )
    log.info("password reset link sent to user %s", user.id)


def check_reset_token(token: str) -> User:
    """The user a reset link is for, without using it; TokenError when it cannot be used."""
    record = _find_token(token, RESET_PASSWORD)
    if not record.user.is_enabled:
        raise TokenError("unknown")
    return record.user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link, ending the user's sessions and other reset links.

    The address counts as confirmed afterwards: the link reached it.
    """
    _check_new_password(new_password, "new_password")
    record = _use_token(token, RESET_PASSWORD)
    user = record.user
    if not user.is_enabled:
        raise TokenError("unknown")
    now = utcnow()
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == RESET_PASSWORD,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    user.password_hash = hash_password(new_password)
    user.end_all_sessions()
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    _tell_password_changed(user)
    audit.record("auth.password_reset", actor=user, target=user)
    log.info("user %s reset their password", user.id)
    return user


# --- operators --------------------------------------------------------------------------


def create_user(
    *, email: str, password: str, role: Role | str, display_name: str = "", locale: str = "en"
) -> User:
    """Create a confirmed, enabled user (for staff, from the command line)."""
    email = _valid_email(email)
    if user_by_email(email) is not None:
        raise AccountError({"email": [_l("An account with this email address already exists.")]})
    _check_new_password(password)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=Role(role),
        is_enabled=True,
        email_confirmed_at=utcnow(),
        locale=check_locale(locale),
        display_name=display_name,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", target=user, role=user.role.value)
    log.info("created %s user %s", user.role.value, user.id)
    return user


def disable_user(email: str) -> User:
    """Stop a user from signing in and end every session they have open."""
    user = user_by_email(email)
    if user is None:
        raise AccountError({"email": [_l("No account has this email address.")]})
    user.is_enabled = False
    user.end_all_sessions()
    audit.record("user.disabled", target=user)
    db.session.flush()
    log.info("disabled user %s", user.id)
    return user
