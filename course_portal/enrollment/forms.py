"""The teacher's application forms: input rules only; seats, deadlines and completeness are services'."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from course_portal.accounts.forms import NoHiddenCharacters, TeacherProfileForm
from course_portal.accounts.profile_rules import FOR_APPLYING
from course_portal.core.text import SafeText, normalize_multiline, normalize_text
from course_portal.core.web import options_of
from course_portal.enrollment.labels import teacher_funding_choices
from course_portal.enrollment.models import DocumentKind
from course_portal.enrollment.services import FUNDING_OTHER_MAX_LENGTH, MOTIVATION_MAX_LENGTH

#: what the file inputs offer to pick; the service decides by the content
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class ApplicationForm(FlaskForm):
    """Motivation, funding, consent and the three documents; saved as a draft or submitted.

    Nothing here is required: a draft may be incomplete. What a submission needs is checked by
    services.submission_problems, whose messages the view puts on these fields.
    """

    motivation = TextAreaField(
        _l("Why do you want to take this program?"),
        filters=[normalize_multiline],
        validators=[
            Optional(),
            Length(max=MOTIVATION_MAX_LENGTH,
                   message=_l("Shorten this to %(max)d characters; it has %(length)d now.")),
            SafeText(allow_newlines=True),
        ],
    )
    funding_source = RadioField(
        _l("Who pays for your participation?"), choices=options_of(teacher_funding_choices),
        validate_choice=True, validators=[Optional()],
    )
    funding_other = StringField(
        _l("If other: who?"),
        filters=[normalize_text],
        validators=[
            Optional(),
            Length(max=FUNDING_OTHER_MAX_LENGTH,
                   message=_l("Shorten this to %(max)d characters; it has %(length)d now.")),
            SafeText(),
            NoHiddenCharacters(),
        ],
    )
    diploma = FileField(_l("Diploma"))
    passport = FileField(_l("Passport page with your photo"))
    cv = FileField(_l("CV"))
    consent = BooleanField(
        _l("I agree to the processing of my personal data for this application.")
    )
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Submit application"))

    def file_fields(self) -> list:
        """The file inputs, in the order of DocumentKind."""
        return [self[kind.value] for kind in DocumentKind]

    def profile_fields(self) -> list:
        """The profile's fields this form asks for (see application_form), in the rule's order."""
        return [self[name] for name in FOR_APPLYING if name in self._fields]


@functools.cache
def _with_profile_fields(names: tuple[str, ...]) -> type[ApplicationForm]:
    fields = {name: getattr(TeacherProfileForm, name) for name in names}
    return type("ApplicationWithProfileForm", (ApplicationForm,), fields)


def application_form(missing: Sequence[str]) -> type[ApplicationForm]:
    """ApplicationForm, asking also for the profile's fields an application needs and lacks.

    An account made before the rule of accounts.profile_rules (or by a coordinator) can lack
    a department or a position; the apply page asks for them itself rather than sending the
    teacher away from the draft. They are the profile form's own fields, with its input rules,
    and optional here like the rest of a draft: the submission says what is still missing.
    """
    names = tuple(name for name in FOR_APPLYING if name in missing)
    return _with_profile_fields(names) if names else ApplicationForm


class WithdrawForm(FlaskForm):
    """The confirmation of a withdrawal: only the CSRF token and the button."""

    confirm = SubmitField(_l("Yes, withdraw"))


class ConfirmSeatForm(FlaskForm):
    """The teacher takes part: only the CSRF token and one button."""

    confirm = SubmitField(_l("Confirm my seat"))
