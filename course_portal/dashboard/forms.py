"""Dashboard forms: the filters, the report's partner, and bulk email; input rules only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import Optional, ValidationError

from course_portal.accounts.forms import optional_id
from course_portal.core.form_messages import at_most, not_blank
from course_portal.core.text import SafeText, normalize_multiline, normalize_text
from course_portal.core.web import options_of
from course_portal.core.widgets import QuickSelect
from course_portal.dashboard.services import DashboardFilters
from course_portal.enrollment.labels import STATUS_NAMES
from course_portal.enrollment.models import ApplicationStatus
from course_portal.enrollment.review_forms import funding_filter_choices

S = ApplicationStatus
SUBJECT_MAX = 200
BODY_MAX = 10_000
#: whom a bulk message can go to: the teachers of applications in these statuses
AUDIENCES = {
    "taking": (S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED),
    "enrolled": (S.ENROLLED,),
    "approved": (S.APPROVED,),
    "waitlisted": (S.WAITLISTED,),
    "submitted": (S.SUBMITTED,),
    "completed": (S.COMPLETED,),
}


def audience_choices() -> list[tuple[str, str]]:
    """The audiences as (value, label)."""
    return [("taking", _l("Enrolled, completed or not completed")),
            *[(key, STATUS_NAMES[statuses[0]]) for key, statuses in AUDIENCES.items()
              if key != "taking"]]


class _Filters:
    """The program, intake, partner and funding selects shared by the filter and email forms."""

    program = SelectField(_l("Program"), coerce=optional_id, choices=[], validate_choice=True,
                          widget=QuickSelect())
    intake = SelectField(_l("Intake"), coerce=optional_id, choices=[], validate_choice=True,
                         widget=QuickSelect())
    partner = SelectField(
        _l("Partner university"), coerce=optional_id, choices=[], validate_choice=True,
        widget=QuickSelect())
    funding = SelectField(_l("Funding"), choices=options_of(funding_filter_choices), default="")


class DashboardFilterForm(_Filters, Form):
    """The dashboard's filters, read from the query string (a GET form: no CSRF token)."""

    submitted_from = DateField(_l("Submitted from"), validators=[Optional()])
    submitted_to = DateField(_l("Submitted until"), validators=[Optional()])

    def reset_invalid(self) -> None:
        """Validate, and put each invalid filter back to its default (its error stays shown)."""
        if self.validate():
            return
        for name in self.errors:
            self._fields[name].data = self._fields[name].default

    def to_filters(self) -> DashboardFilters:
        """The filters as the services take them."""
        return DashboardFilters(
            program_id=self.program.data, intake_id=self.intake.data,
            partner_id=self.partner.data, funding=self.funding.data or None,
            submitted_from=self.submitted_from.data, submitted_to=self.submitted_to.data,
        )


def single_line(form, field) -> None:
    """Refuse line breaks: the subject becomes an email header."""
    if field.data and ("\n" in field.data or "\r" in field.data):
        raise ValidationError(_l("The subject must be one line."))


class BulkEmailForm(_Filters, FlaskForm):
    """Whom to write to and what: the same subject and body for every teacher."""

    audience = SelectField(_l("Teachers whose application is"),
                           choices=options_of(audience_choices), default="taking")
    subject = StringField(_l("Subject"), filters=[normalize_text], validators=[
        not_blank(), at_most(SUBJECT_MAX), single_line, SafeText()])
    body = TextAreaField(_l("Message"), filters=[normalize_multiline], validators=[
        not_blank(), at_most(BODY_MAX), SafeText(allow_newlines=True)])

    def to_filters(self) -> DashboardFilters:
        """The recipients' filters as the services take them."""
        return DashboardFilters(
            program_id=self.program.data, intake_id=self.intake.data,
            partner_id=self.partner.data, funding=self.funding.data or None)

    def statuses(self) -> tuple[ApplicationStatus, ...]:
        """The statuses of the chosen audience."""
        return AUDIENCES.get(self.audience.data, AUDIENCES["taking"])
