"""Certificate forms: input rules only; eligibility and statuses are service rules."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from course_portal.accounts.forms import NAME_RU_MAX, name_rules
from course_portal.certificates.services import REASON_MAX_LENGTH
from course_portal.core.clock import portal_today
from course_portal.core.form_messages import at_most
from course_portal.core.text import SafeText, normalize_multiline, normalize_text


class IssueForm(FlaskForm):
    """One button: issue (one certificate or the whole intake's)."""

    submit = SubmitField(_l("Issue certificate"))


class RevokeForm(FlaskForm):
    """Revoke with a reason that the verification page shows."""

    reason = TextAreaField(
        _l("Reason for revocation"),
        filters=[normalize_multiline],
        validators=[DataRequired(_l("Give the reason; it is shown on the verification page.")),
                    at_most(REASON_MAX_LENGTH), SafeText(allow_newlines=True)],
    )
    submit = SubmitField(_l("Revoke certificate"))


class ReissueForm(FlaskForm):
    """Re-issue after a correction, saying what was corrected."""

    reason = TextAreaField(
        _l("What does the re-issue correct?"),
        filters=[normalize_multiline],
        validators=[DataRequired(_l("Say what is corrected; it is shown on the verification "
                                    "page.")),
                    at_most(REASON_MAX_LENGTH), SafeText(allow_newlines=True)],
    )
    submit = SubmitField(_l("Re-issue certificate"))


class FrdoExportForm(FlaskForm):
    """The period of the federal register export: certificates issued from one day to another."""

    class Meta:
        # a GET form that downloads a file: nothing changes, so no token to expire
        csrf = False

    start = DateField(_l("Issued from"), validators=[InputRequired(_l("Give the first day."))])
    end = DateField(_l("Issued until"), validators=[InputRequired(_l("Give the last day."))])
    submit = SubmitField(_l("Export for ФИС ФРДО (XLSX)"))

    def validate_start(self, field):
        """A day the portal can have issued on: from 2000 to a year from now."""
        _check_period_day(field.data)

    def validate_end(self, field):
        """The period runs forwards."""
        _check_period_day(field.data)
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The last day must not be before the first."))


#: the earliest day a period of issue may start on
FIRST_PERIOD_DAY = date(2000, 1, 1)


def _check_period_day(day) -> None:
    latest = portal_today() + timedelta(days=366)
    if day is not None and not FIRST_PERIOD_DAY <= day <= latest:
        raise ValidationError(_l("Choose a day from %(first)s to %(last)s.",
                                 first=FIRST_PERIOD_DAY.isoformat(), last=latest.isoformat()))


class RussianNameForm(FlaskForm):
    """A coordinator's correction of a teacher's name in Cyrillic."""

    name_ru = StringField(
        _l("Name in Russian (Cyrillic)"),
        filters=[normalize_text],
        validators=name_rules(NAME_RU_MAX, "cyrillic", required=True),
    )
    submit = SubmitField(_l("Save the name"))


class VerifyFileForm(FlaskForm):
    """A PDF to check on /verify: the file only; what it is, filecheck decides by its bytes."""

    file = FileField(
        _l("The certificate's PDF file"),
        validators=[FileRequired(_l("Choose the certificate's PDF file."))],
    )
    submit = SubmitField(_l("Check the file"))


class VerifyCredentialForm(FlaskForm):
    """A credential to check on /verify: pasted, or its file chosen; credentials decides."""

    credential = TextAreaField(_l("The credential, pasted"))
    file = FileField(_l("Or the credential's file"))
    submit = SubmitField(_l("Check the credential"))
