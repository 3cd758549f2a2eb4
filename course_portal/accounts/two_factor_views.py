"""Two-step sign-in pages: the code after the password, setting up an authenticator, recovery codes."""

from __future__ import annotations

import logging

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from course_portal.accounts import forms, passkeys, two_factor
from course_portal.accounts import session as sessions
from course_portal.accounts.models import Role
from course_portal.accounts.views import _home, bp, finish_sign_in
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, put_errors
from course_portal.extensions import db, limiter

log = logging.getLogger(__name__)

STAFF_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.PARTNER_LIAISON)


def _signed_in_user_key() -> str:
    """Rate-limit key of a signed-in user: the same bucket as their sign-in codes."""
    return f"two-factor:{current_user.get_id().partition(':')[0]}"


def _qr_data_uri(uri: str) -> str:
    """The QR code of an otpauth:// address as an SVG data URI: no script, nothing from elsewhere."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#111")


def _grouped(secret: str) -> str:
    """A base32 secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# --- the second step of signing in ------------------------------------------------------


def pending_or_redirect():
    """The second step's (user, pending sign-in), or where to go instead: home for someone
    already signed in, the sign-in page (saying why when it timed out) for no pending one."""
    if current_user.is_authenticated:
        return redirect(_home(current_user))
    found = sessions.pending_sign_in()
    if found is None:
        if session.pop(sessions.PENDING, None) is not None:
            flash(_("Signing in took too long. Please enter your email and password again."),
                  "info")
        return redirect(url_for("accounts.login"))
    return found


def second_step_limits(view):
    """The second step's attempt limits, per address and per pending account: a code and a
    passkey answer count against the same ones."""
    per_account = limiter.limit(
        lambda: current_app.config["TWO_FACTOR_LIMIT_PER_ACCOUNT"],
        methods=["POST"],
        key_func=sessions.pending_user_key,
        exempt_when=sessions.no_pending_sign_in,
    )
    per_ip = limiter.limit(lambda: current_app.config["TWO_FACTOR_LIMIT_PER_IP"],
                           methods=["POST"])
    return per_ip(per_account(view))


@bp.route("/login/code", methods=["GET", "POST"])
@second_step_limits
@form_view
def login_code():
    """The code from the authenticator (or a recovery code) after a right password.

    Nobody is signed in until the code is right: the session holds only a pending sign-in,
    bound to the user's session token, for TWO_FACTOR_PENDING_SECONDS. Without one, the
    visitor is sent to the sign-in page, as for any page that needs a signed-in user.
    """
    found = pending_or_redirect()
    if not isinstance(found, tuple):
        return found
    user, pending = found
    has_passkeys = passkeys.has_passkeys(user)
    if has_passkeys and not user.has_two_factor:
        # passkeys but no authenticator app: there is no code to type
        return redirect(url_for("accounts.login_passkey"))
    form = forms.SignInCodeForm()
    if form.validate_on_submit():
        try:
            method = two_factor.verify_sign_in_code(user, form.code.data or "")
        except two_factor.TwoFactorError as error:
            db.session.commit()  # the refusal's audit row
            log.warning("two-factor code refused for user %s ip=%s", user.id, request.remote_addr)
            put_errors(form, error)
        else:
            response = finish_sign_in(user, pending.get("next"), pending.get("remember", False),
                                      method)
            if method == "recovery":  # after the new session has started, or it is lost
                left = two_factor.recovery_codes_left(user)
                log.info("user %s signed in with a recovery code, %s left", user.id, left)
                flash(ngettext(
                    "You signed in with a recovery code. %(num)d code is left: make new ones "
                    "on your two-step sign-in page.",
                    "You signed in with a recovery code. %(num)d codes are left: make new ones "
                    "on your two-step sign-in page.",
                    left,
                ), "warning")
            return response
    return render_template("accounts/login_code.html", form=form, has_passkeys=has_passkeys)


# --- setting it up ----------------------------------------------------------------------

#: codes and passwords typed on the setup and settings pages, per signed-in account
_code_attempts = limiter.limit(
    lambda: current_app.config["TWO_FACTOR_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_signed_in_user_key,
)



@bp.route("/two-factor/setup", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
@_code_attempts
@form_view
def two_factor_setup():
    """Add the portal to an authenticator app by its QR code, then confirm with a code."""
    user = current_user._get_current_object()
    if user.has_two_factor:
        return redirect(url_for("accounts.two_factor_settings"))
    secret = two_factor.begin_enrollment(user)
    db.session.commit()
    form = forms.TwoFactorSetupForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrollment(user, form.code.data or "")
        except two_factor.TwoFactorError as error:
            db.session.rollback()
            log.warning("two-factor setup code refused for user %s ip=%s", user.id,
                        request.remote_addr)
            put_errors(form, error)
        else:
            db.session.commit()
            # shown in the answer to the POST, never kept anywhere: the only time they are seen
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=True)
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        qr=_qr_data_uri(two_factor.provisioning_uri(user)),
        secret=_grouped(secret),
        issuer=current_app.config["TOTP_ISSUER"],
    )


@bp.route("/two-factor", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
@_code_attempts
@form_view
def two_factor_settings():
    """How the staff member signs in, how many recovery codes are left, and new ones."""
    user = current_user._get_current_object()
    if not user.has_two_factor:
        return redirect(url_for("accounts.two_factor_setup"))
    form = forms.RecoveryCodesForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(user, form.password.data or "")
        except two_factor.TwoFactorError as error:
            db.session.rollback()
            put_errors(form, error)
        else:
            db.session.commit()
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=False)
    return render_template(
        "accounts/two_factor.html",
        form=form,
        user=user,
        left=two_factor.recovery_codes_left(user),
        passkeys=passkeys.passkeys_of(user),
    )
