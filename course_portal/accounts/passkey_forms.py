"""Passkey forms: input rules only; the rules of passkeys live in accounts.passkeys.

Beside forms.py rather than in it: that module is at the size where it becomes two.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField

from course_portal.accounts.forms import text_rules
from course_portal.accounts.passkeys import NAME_MAX
from course_portal.core.form_messages import at_most
from course_portal.core.text import normalize_text

#: the JSON a browser sends for one credential is a few kilobytes; attestation certificates,
#: when an authenticator sends them anyway, stay well under this
CREDENTIAL_MAX = 64 * 1024


class AddPasskeyForm(FlaskForm):
    """A name for the new passkey, and the browser's answer (filled in by passkeys.js)."""

    name = StringField(
        _l("Name of the passkey"),
        filters=[normalize_text],
        validators=text_rules(NAME_MAX, required=True),
    )
    credential = HiddenField(validators=[at_most(CREDENTIAL_MAX)])
    submit = SubmitField(_l("Add a passkey"))


class PasskeySignInForm(FlaskForm):
    """The browser's answer to the sign-in challenge (filled in by passkeys.js)."""

    credential = HiddenField(validators=[at_most(CREDENTIAL_MAX)])
    submit = SubmitField(_l("Sign in with a passkey"))

