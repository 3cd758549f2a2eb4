"""Accounts pages: register, confirm, sign in and out, passwords, profile, language."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from course_portal.accounts import consent, forms, palladius, passkeys, pinyin, profiles, services
from course_portal.accounts import session as sessions
from course_portal.accounts.consent import ConsentKind
from course_portal.accounts.models import Role, User
from course_portal.certificates.requirements import profile_gaps
from course_portal.core.i18n import current_language
from course_portal.core.logsafe import loggable
from course_portal.core.permissions import public
from course_portal.core.web import form_view, put_errors, safe_next
from course_portal.extensions import db, limiter

bp = Blueprint("accounts", __name__)
log = logging.getLogger(__name__)


def _fresh_session() -> None:
    """Empty the session but for the language: nothing planted before sign-in survives it."""
    language = session.get("locale")
    session.clear()
    if language:
        session["locale"] = language


def _sign_in(user: User, remember: bool = False, signed_in_at: float | None = None) -> None:
    """Start a new session for the user; remember-me cookies only for teachers.

    signed_in_at keeps the start of a session that is only renewed (after a password change),
    so the staff time limit still counts from the real sign-in.
    """
    _fresh_session()
    login_user(user, remember=remember and user.role == Role.TEACHER)
    session.permanent = True
    sessions.start_clock()
    if signed_in_at is not None:
        session[sessions.SIGNED_IN_AT] = signed_in_at


def _loggable(email: str | None) -> str:
    """An address as it can go in a log line: repr escapes line breaks and controls."""
    return loggable(email, limit=254)


def _submitted_account() -> str:
    """The rate-limit key of the account named in the form: its address, trimmed, lower-cased."""
    return "account:" + services.normalize_email(request.form.get("email"))[:254]


def _no_account_submitted() -> bool:
    return not services.normalize_email(request.form.get("email"))


def _profile_data(form) -> dict:
    return {name: getattr(form, name).data for name in profiles.PROFILE_FIELDS}


# --- registration -----------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["REGISTER_LIMIT"],
    methods=["POST"],
    key_func=_submitted_account,
    exempt_when=_no_account_submitted,
)
@form_view
def register():
    """A teacher registers with the whole profile; the answer is the same for a known address."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.profile"))
    form = forms.with_university_choices(forms.RegistrationForm(locale=current_language()))
    if form.validate_on_submit():
        try:
            services.register_teacher(
                email=form.email.data,
                password=form.password.data,
                locale=form.locale.data,
                consents=[ConsentKind.PROCESSING, ConsentKind.TRANSFER_ABROAD],
                consent_language=current_language(),
                **_profile_data(form),
            )
        except services.AccountError as error:
            put_errors(form, error)
        else:
            db.session.commit()
            return redirect(url_for("accounts.register_sent"))
    return render_template(
        "accounts/register.html", form=form, password_hint=forms.password_hint(),
        consent_texts=consent.current_texts(),
    )


@bp.get("/register/sent")
@public
def register_sent():
    """Check your email: the same page for a new and for an existing address."""
    return render_template(
        "accounts/check_email.html",
        title=_("Check your email"),
        message=_(
            "Check your email to finish registration. We have sent a message to the address "
            "you gave; it may take a few minutes to arrive."
        ),
    )


@bp.get("/confirm/<token>")
@public
def confirm_email(token: str):
    """Confirm the address from the emailed link and sign the teacher in."""
    try:
        user = services.confirm_email(token)
    except services.TokenError as error:
        db.session.rollback()
        return _token_problem(error, "confirm")
    db.session.commit()
    if user.is_active and not user.has_two_factor and not passkeys.has_passkeys(user):
        services.record_sign_in(user, "email_link")
        db.session.commit()
        _sign_in(user)
        flash(_("Thank you: your email address is confirmed and you are signed in."), "success")
        return redirect(url_for("accounts.profile"))
    flash(_("Your email address is confirmed."), "success")
    return redirect(url_for("accounts.login"))


def _token_problem(error: services.TokenError, kind: str):
    status = 404 if error.reason == "unknown" else 410
    return render_template("accounts/token_problem.html", error=error, kind=kind), status


# --- sign-in ----------------------------------------------------------------------------


def _home(user) -> str:
    """Where a sign-in lands without a next page: coordinators and admins on the dashboard,
    partner liaisons on their partner pages, others on the catalog."""
    if user.is_staff:
        return url_for("dashboard.index")
    if user.role == Role.PARTNER_LIAISON:
        return url_for("partners.home")
    return url_for("catalog.index")


def finish_sign_in(user: User, target: str | None, remember: bool, method: str):
    """Record the sign-in, commit, start the session and go where the user was heading."""
    services.record_sign_in(user, method)
    db.session.commit()
    _sign_in(user, remember=remember)
    destination = safe_next(target, _home(user))
    if user.role == Role.TEACHER and consent.missing(user.id):
        # a consent text changed (or an older account never agreed): asked before going on
        return redirect(url_for("accounts.consent_page", next=destination))
    return redirect(destination)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_submitted_account,
    exempt_when=_no_account_submitted,
)
@form_view
def login():
    """Sign in; one message for an unknown address, a wrong password and a disabled account."""
    target = request.args.get("next")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(target, _home(current_user)))
    form = forms.LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data or "", form.password.data or "")
        except services.LoginRefused as refusal:
            if refusal.reason != "unconfirmed":
                log.warning("failed login for account %s user=%s ip=%s",
                            _loggable(form.email.data),
                            refusal.user.id if refusal.user else "unknown", request.remote_addr)
            db.session.commit()  # the audit row, and for an unconfirmed account its new link
            put_errors(form, refusal)
        else:
            if user.has_two_factor or passkeys.has_passkeys(user):
                db.session.commit()
                _fresh_session()
                sessions.await_code(user, target, form.remember.data)
                return redirect(url_for("accounts.login_code"))
            return finish_sign_in(user, target, form.remember.data, "password")
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere (POST only, with the global CSRF check); the language choice stays."""
    language = current_user.locale
    services.sign_out_everywhere(current_user)
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion in the session
    session["locale"] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("catalog.index"))


# --- passwords --------------------------------------------------------------------------


@bp.route("/password/reset", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["RESET_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RESET_LIMIT"],
    methods=["POST"],
    key_func=_submitted_account,
    exempt_when=_no_account_submitted,
)
@form_view
def reset_request():
    """Ask for a reset link; the answer is the same whether the address has an account."""
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data or "")
        db.session.commit()
        return redirect(url_for("accounts.reset_sent"))
    return render_template("accounts/reset_request.html", form=form)


@bp.get("/password/reset/sent")
@public
def reset_sent():
    """Check your email: the same page for a known and an unknown address."""
    return render_template(
        "accounts/check_email.html",
        title=_("Check your email"),
        message=_(
            "If an account has this address, we have sent it a link to choose a new password. "
            "The link works once and expires soon."
        ),
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
@form_view
def reset_password(token: str):
    """Choose a new password from an emailed link; every session of the account ends."""
    try:
        services.check_reset_token(token)
    except services.TokenError as error:
        return _token_problem(error, "reset")
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.new_password.data or "")
        except services.TokenError as error:
            db.session.rollback()
            return _token_problem(error, "reset")
        except services.AccountError as error:
            db.session.rollback()
            put_errors(form, error)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                session.clear()
                logout_user()
            flash(_("Your password is changed. Sign in with the new password."), "success")
            return redirect(url_for("accounts.login"))
    return render_template(
        "accounts/reset_password.html", form=form, password_hint=forms.password_hint()
    )


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
@form_view
def change_password():
    """Change the password; every other session of the user ends, this one goes on."""
    form = forms.PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        remembered = cookie_name in request.cookies
        signed_in_at = session.get(sessions.SIGNED_IN_AT)
        try:
            services.change_password(user, form.current_password.data or "",
                                     form.new_password.data or "")
        except services.AccountError as error:
            put_errors(form, error)
        else:
            db.session.commit()
            # this browser, with the new session token; the staff time limit goes on counting
            _sign_in(user, remember=remembered, signed_in_at=signed_in_at)
            flash(_("Your password is changed. You have been signed out everywhere else."),
                  "success")
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/password_change.html", form=form, password_hint=forms.password_hint()
    )


# --- profile and language ---------------------------------------------------------------


@bp.get("/profile")
@login_required
def profile():
    """The signed-in user's account and, for teachers, their profile."""
    profile = current_user.profile
    gaps = [str(label) for _, label in profile_gaps(profile)] if profile is not None else []
    is_teacher = current_user.role == Role.TEACHER
    consents = consent.in_force(current_user.id) if is_teacher else {}
    from course_portal.privacy import export as data_exports
    from course_portal.privacy.forms import ExportForm

    return render_template("accounts/profile.html", user=current_user, certificate_gaps=gaps,
                           suggested_ru=palladius.suggestion_for(profile), country_name=country_name,
                           consents=consents, consent_texts=consent.current_texts(),
                           withdraw_form=forms.ConsentWithdrawForm(), export_form=ExportForm(),
                           data_exports=data_exports.exports_of(current_user.id, current_user.id)
                           if is_teacher else [],
                           passkey_count=passkeys.count_of(current_user)
                           if current_user.needs_two_factor else 0)


def country_name(code: str) -> str:
    """A country's name in the reader's language, from its ISO code."""
    from flask_babel import get_locale

    locale = get_locale()
    return (locale.territories.get(code) if locale is not None else None) or code


@bp.route("/profile/edit", methods=["GET", "POST"])
@login_required
@form_view
def edit_profile():
    """Teachers edit their profile; staff edit their display name; everyone their language."""
    user = current_user._get_current_object()
    if user.role == Role.TEACHER:
        form = forms.with_university_choices(forms.TeacherProfileForm(
            obj=user.profile, locale=user.locale, timezone=user.timezone,
            wants_reminders=user.wants_reminders))
        if request.method == "GET" and not form.name_ru.data:
            # shown to confirm or correct; saved only when the teacher saves the form
            form.name_ru.data = palladius.suggestion_for(user.profile)
    else:
        form = forms.StaffProfileForm(obj=user)
    if form.validate_on_submit():
        try:
            if user.role == Role.TEACHER:
                profiles.update_teacher_profile(user, locale=form.locale.data,
                                                timezone=form.timezone.data,
                                                wants_reminders=form.wants_reminders.data,
                                                **_profile_data(form))
            else:
                profiles.update_staff_profile(
                    user, display_name=form.display_name.data, locale=form.locale.data,
                    timezone=form.timezone.data,
                )
        except services.AccountError as error:
            put_errors(form, error)
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile_edit.html", form=form, user=user)


@bp.post("/language")
@public
def set_language():
    """Switch the page language: kept in the session, and saved for a signed-in user."""
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["locale"] = language
        if current_user.is_authenticated:
            profiles.set_locale(current_user, language)
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("catalog.index")))


@bp.get("/pinyin")
@public
@limiter.limit("60 per minute")
def pinyin_suggestion():
    """Suggested Latin spellings of a name typed in Chinese characters, for the profile form.

    GET /pinyin?family=欧阳&given=娜娜 → {"family": "Ouyang", "given": "Nana", "ru": "Оуян Нана"}.
    family_latin and given_latin, when given, are the passport spelling the Cyrillic is read from
    (Palladius); otherwise it is read from the suggestion. The page's script fills the fields with
    it; without the script the teacher simply types them.
    """
    family, given = request.args.get("family"), request.args.get("given")
    answer = pinyin.suggest(family, given)
    answer["ru"] = palladius.name_to_cyrillic(
        (request.args.get("family_latin") or "")[:200] or answer["family"],
        (request.args.get("given_latin") or "")[:200] or answer["given"],
        pinyin.han_only(family), pinyin.han_only(given))
    response = jsonify(answer)
    # the same question always gets the same answer: the browser may keep it, no shared cache
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    return response


from course_portal.accounts import (  # noqa: E402,F401  (routes on bp)
    consent_views,
    passkey_views,
    two_factor_views,
)
