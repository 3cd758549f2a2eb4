"""The privacy pages' forms: input rules only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from course_portal.core.form_messages import REQUIRED, at_most
from course_portal.core.text import SafeText, normalize_text


class ExportForm(FlaskForm):
    """The teacher asks for a copy of their data: one button."""


class StaffExportForm(FlaskForm):
    """A coordinator makes a copy for a teacher who asked for it, saying how they asked."""

    reason = StringField(
        _l("The teacher's request"),
        filters=[normalize_text],
        validators=[DataRequired(message=REQUIRED), at_most(300), SafeText()],
        description=_l("How and when the teacher asked, e.g. “email of 3 December”: kept in "
                       "the audit log."),
    )


class ErasureRequestForm(FlaskForm):
    """The teacher asks for their data to be deleted, confirming with their password."""

    password = PasswordField(_l("Your password"),
                             validators=[DataRequired(message=REQUIRED), at_most(200)])


class ErasureCancelForm(FlaskForm):
    """The teacher withdraws their request before it runs."""


class ErasureConfirmForm(FlaskForm):
    """A coordinator confirms a teacher's request: it runs now."""
