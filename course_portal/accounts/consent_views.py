"""Consent pages: asked again when a text changes, withdrawn from the profile, old texts readable."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from course_portal.accounts import consent, forms
from course_portal.accounts.models import Role
from course_portal.accounts.views import bp
from course_portal.core.i18n import current_language
from course_portal.core.permissions import public, role_required
from course_portal.core.web import form_view, safe_next
from course_portal.extensions import db


@bp.route("/consent", methods=["GET", "POST"])
@role_required(Role.TEACHER)
@form_view
def consent_page():
    """The consents not yet given to the texts in force, each beside its text; "not now" is a link.

    A teacher who goes on without them can read, download and delete their data, but cannot
    submit an application until they agree.
    """
    user = current_user._get_current_object()
    target = safe_next(request.values.get("next"), url_for("accounts.profile"))
    missing = consent.missing(user.id)
    form = forms.ConsentForm(next=target)
    if missing and form.validate_on_submit():
        chosen = [kind for kind in form.chosen() if kind in missing]
        if not chosen:
            form.form_errors.append(_("Tick the consent you give, or choose “Not now”."))
        else:
            consent.give(user, chosen, current_language())
            db.session.commit()
            if consent.missing(user.id):
                flash(_("Thank you. One consent is still not given: you can give it here at "
                        "any time; until then you cannot submit an application."), "info")
            else:
                flash(_("Thank you: your consent is recorded."), "success")
            return redirect(target)
    return render_template("accounts/consent.html", form=form, target=target,
                           texts=consent.current_texts(missing))


@bp.post("/consent/withdraw")
@role_required(Role.TEACHER)
def withdraw_consent():
    """Withdraw one consent; applications can no longer be submitted until it is given again."""
    form = forms.ConsentWithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    if consent.withdraw(user, consent.ConsentKind(form.kind.data or "")):
        db.session.commit()
        flash(_("Your consent is withdrawn. You can no longer submit applications; you can "
                "still download or delete your data, and give your consent again here."), "info")
    return redirect(url_for("accounts.profile") + "#consents")


@bp.get("/consent/<kind>/v<int:version>")
@public
def consent_text(kind: str, version: int):
    """A version of a consent text, current or earlier, in the reader's language."""
    text = consent.known_text(kind, version)
    if text is None:
        abort(404)
    return render_template("accounts/consent_text.html", text=text)
