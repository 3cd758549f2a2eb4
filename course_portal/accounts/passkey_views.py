"""Passkey pages: adding and removing passkeys, and the passkey step of signing in.

Each ceremony's challenge is kept in the session, bound to the user and to a deadline, and
taken out by the first answer that comes back, right or wrong: an answer counts once.
"""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from course_portal.accounts import passkey_forms, passkeys
from course_portal.accounts import session as sessions
from course_portal.accounts.models import User
from course_portal.accounts.two_factor_views import (
    STAFF_ROLES,
    _code_attempts,
    pending_or_redirect,
    second_step_limits,
)
from course_portal.accounts.views import bp, finish_sign_in
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, put_errors
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: session keys of the challenges waiting for an answer
REGISTRATION = "passkey_registration"
SIGN_IN = "passkey_sign_in"


def _relying_party() -> passkeys.RelyingParty:
    return passkeys.relying_party(current_app.config, request.host_url)


def _keep_challenge(key: str, user: User, challenge: bytes) -> None:
    session[key] = {
        "user": user.id,
        "challenge": bytes_to_base64url(challenge),
        "until": sessions.now() + passkeys.CEREMONY_SECONDS,
    }


def _take_challenge(key: str, user: User) -> bytes | None:
    """The challenge kept for this user, removed from the session; None if none or expired."""
    kept = session.pop(key, None)
    if (not isinstance(kept, dict) or kept.get("user") != user.id
            or kept.get("until", 0) < sessions.now()):
        return None
    try:
        return base64url_to_bytes(str(kept.get("challenge", "")))
    except ValueError:
        return None


def get_passkey_or_404(passkey_id: int, viewer: User) -> passkeys.Passkey:
    """The viewer's passkey; 404 for one that is someone else's or gone."""
    passkey = db.session.get(passkeys.Passkey, passkey_id)
    if passkey is None or passkey.user_id != viewer.id:
        abort(404)
    return passkey


# --- adding and removing ----------------------------------------------------------------


@bp.route("/two-factor/passkeys/new", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
@_code_attempts
@form_view
def add_passkey():
    """Name a new passkey, let the browser create it, and keep it."""
    user = current_user._get_current_object()
    form = passkey_forms.AddPasskeyForm()
    rp = _relying_party()
    if request.method == "POST":
        challenge = _take_challenge(REGISTRATION, user)
        if form.validate_on_submit():
            try:
                passkey = passkeys.add_passkey(user, form.name.data or "",
                                               form.credential.data or "", challenge, rp)
            except passkeys.PasskeyError as error:
                db.session.rollback()
                put_errors(form, error)
            else:
                db.session.commit()
                flash(_("The passkey “%(name)s” is added. After your password you can use it "
                        "instead of a code.", name=passkey.name), "success")
                return redirect(url_for("accounts.two_factor_settings"))
    form.credential.data = ""
    options, challenge = passkeys.registration_options(user, rp, current_app.config["SECRET_KEY"])
    _keep_challenge(REGISTRATION, user, challenge)
    return render_template("accounts/passkey_new.html", form=form, options=options)


@bp.post("/two-factor/passkeys/<int:passkey_id>/remove")
@role_required(*STAFF_ROLES)
def remove_passkey(passkey_id: int):
    """Remove one of the signed-in user's passkeys (POST, with the global CSRF check)."""
    user = current_user._get_current_object()
    passkey = get_passkey_or_404(passkey_id, viewer=user)
    name = passkey.name
    try:
        passkeys.remove_passkey(user, passkey)
    except passkeys.PasskeyError as error:
        db.session.rollback()
        flash(error.text(), "error")
    else:
        db.session.commit()
        flash(_("The passkey “%(name)s” is removed.", name=name), "success")
    return redirect(url_for("accounts.two_factor_settings"))


# --- the passkey step of signing in -----------------------------------------------------


@bp.route("/login/passkey", methods=["GET", "POST"])
@second_step_limits
@form_view
def login_passkey():
    """After a right password, a passkey instead of the authenticator's code.

    The same pending sign-in as the code page (accounts.login_code): nobody is signed in until
    the passkey answers, and without a pending sign-in the visitor is sent to sign in.
    """
    found = pending_or_redirect()
    if not isinstance(found, tuple):
        return found
    user, pending = found
    if not passkeys.has_passkeys(user):
        return redirect(url_for("accounts.login_code"))
    form = passkey_forms.PasskeySignInForm()
    rp = _relying_party()
    if request.method == "POST":
        challenge = _take_challenge(SIGN_IN, user)
        if form.validate_on_submit():
            try:
                passkeys.verify_sign_in(user, form.credential.data or "", challenge, rp)
            except passkeys.PasskeyError as error:
                db.session.commit()  # the refusal's audit row
                log.warning("passkey refused for user %s ip=%s", user.id, request.remote_addr)
                put_errors(form, error)
            else:
                return finish_sign_in(user, pending.get("next"), pending.get("remember", False),
                                      "passkey")
    form.credential.data = ""
    options, challenge = passkeys.sign_in_options(user, rp)
    _keep_challenge(SIGN_IN, user, challenge)
    return render_template("accounts/login_passkey.html", form=form, options=options,
                           has_codes=user.has_two_factor)
