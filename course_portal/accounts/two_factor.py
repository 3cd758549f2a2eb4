"""Two-step sign-in for staff: a TOTP authenticator whose codes count once, and recovery codes.

Like services.py, nothing here touches request, session or flash; the views, the CLI and the
tests call the same functions and commit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

import pyotp
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from course_portal.accounts import passkeys
from course_portal.accounts.models import RecoveryCode, User
from course_portal.accounts.services import AccountError, check_password, user_by_email
from course_portal.core import audit
from course_portal.db import execute_dml, utcnow
from course_portal.extensions import db

log = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
#: lower-case letters and digits without the look-alikes 0/o, 1/l/i: easy to read off paper
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: 10 characters of 31: about 49 bits, shown as two groups of five
RECOVERY_CODE_LENGTH = 10
#: a code of the step before or after the current one is accepted too (clocks drift)
VALID_WINDOW = 1
TOTP_DIGITS = 6


class TwoFactorError(AccountError):
    """A code or a step of the two-step sign-in was refused."""


def now() -> float:
    """Seconds since the epoch; the one clock of this module (tests may replace it)."""
    return time.time()


# --- codes ------------------------------------------------------------------------------


def _clean(code: str | None) -> str:
    """A typed code without spaces or dashes, lower-cased: "123 456", "abcde-fghjk"."""
    return "".join(ch for ch in (code or "")[:64] if ch not in " -\u00a0\t").lower()


def _is_totp_code(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step whose code this is, within VALID_WINDOW steps of `at`; None otherwise."""
    code = _clean(code)
    if not secret or not _is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now() if at is None else at) // totp.interval
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_step(user: User, step: int) -> bool:
    """Record the step as used, once: a step at or before the last accepted one is refused.

    One UPDATE with the condition in it, so two requests racing with the same code cannot
    both win.
    """
    result = execute_dml(
        update(User)
        .where(User.id == user.id,
               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _digest(code: str) -> str:
    return hashlib.sha256(_clean(code).encode("utf-8")).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with new ones; returns them, the only time they are seen."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
    db.session.flush()
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    """Mark the matching unused recovery code used; False when there is none."""
    cleaned = _clean(code)
    if len(cleaned) != RECOVERY_CODE_LENGTH:
        return False
    result = execute_dml(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(cleaned),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def recovery_codes_left(user: User) -> int:
    """How many of the user's recovery codes are still unused."""
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


# --- enrolling --------------------------------------------------------------------------


def begin_enrollment(user: User) -> str:
    """The secret being enrolled: kept until confirmed, so a reload shows the same QR code."""
    if user.has_two_factor:
        raise TwoFactorError(message=_l("Two-step sign-in is already set up."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    assert user.totp_secret is not None  # begin_enrollment() comes first
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TOTP_ISSUER"]
    )


def confirm_enrollment(user: User, code: str) -> list[str]:
    """Turn two-step sign-in on once a current code proves the app has the secret.

    Returns the new recovery codes, to be shown once.
    """
    if user.has_two_factor:
        raise TwoFactorError(message=_l("Two-step sign-in is already set up."))
    step = matching_step(user.totp_secret or "", code)
    if step is None or not _accept_step(user, step):
        log.info("two-factor setup code refused for user %s", user.id)
        raise TwoFactorError({"code": [_l(
            "This code is not right. Check that the app shows the account you just added, "
            "and type the code it shows now."
        )]})
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record("auth.two_factor_enabled", actor=user, target=user)
    log.info("user %s set up two-step sign-in", user.id)
    return codes


def regenerate_recovery_codes(user: User, password: str) -> list[str]:
    """New recovery codes after the password is checked again; the old ones stop working."""
    if not user.has_two_factor:
        raise TwoFactorError(message=_l("Set up two-step sign-in first."))
    if not check_password(user.password_hash, password):
        raise TwoFactorError({"password": [_l("This is not your current password.")]})
    codes = _new_recovery_codes(user)
    audit.record("auth.recovery_codes_regenerated", actor=user, target=user)
    log.info("user %s made new recovery codes", user.id)
    return codes


# --- signing in -------------------------------------------------------------------------


def verify_sign_in_code(user: User, code: str) -> str:
    """Check the code of a sign-in: "totp" or "recovery" for how it passed; TwoFactorError if not.

    An authenticator code counts once (its time step is recorded); a recovery code too.
    A refusal is written to the audit log, so the caller commits either way.
    """
    cleaned = _clean(code)
    if user.has_two_factor:
        assert user.totp_secret is not None  # has_two_factor: a secret is enrolled
        if _is_totp_code(cleaned):
            step = matching_step(user.totp_secret, cleaned)
            if step is not None and _accept_step(user, step):
                return "totp"
        elif _use_recovery_code(user, cleaned):
            audit.record("auth.recovery_code_used", actor=user, target=user,
                         left=recovery_codes_left(user))
            return "recovery"
    audit.record("auth.two_factor_failed", actor=user, target=user,
                 kind="totp" if _is_totp_code(cleaned) else "recovery")
    raise TwoFactorError({"code": [_l(
        "This code is not right, or it has been used already. Type the code your app shows "
        "now, or one of your recovery codes."
    )]})


# --- operators --------------------------------------------------------------------------


def _staff_by_email(email: str) -> User:
    user = user_by_email(email)
    if user is None:
        raise AccountError({"email": [_l("No account has this email address.")]})
    return user


def reset_two_factor(email: str) -> User:
    """Forget a user's authenticator, recovery codes and passkeys and end their sessions (an
    admin's act).

    A staff member then sets up two-step sign-in again at their next sign-in. Passkeys go too:
    the lost phone may hold one, and a reset must leave nothing a finder could still use.
    """
    user = _staff_by_email(email)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    removed = passkeys.remove_all(user)
    user.end_all_sessions()
    audit.record("auth.two_factor_reset", target=user, passkeys=removed)
    db.session.flush()
    log.info("two-step sign-in of user %s reset", user.id)
    return user


def current_code(email: str) -> str:
    """The code the user's authenticator shows now (for `flask users two-factor-code`)."""
    user = _staff_by_email(email)
    if not user.totp_secret:
        raise AccountError(message=_l("This account has no authenticator set up."))
    return pyotp.TOTP(user.totp_secret).at(now())
