"""Review forms: input rules only; seats, statuses and reasons to reject are service rules."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    Form,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Optional,
    ValidationError,
)

from course_portal.accounts.forms import optional_id
from course_portal.core.form_messages import at_most, between
from course_portal.core.text import SafeText, normalize_multiline, normalize_text
from course_portal.core.web import options_of
from course_portal.core.widgets import QuickSelect
from course_portal.enrollment import labels, queue
from course_portal.enrollment.models import ApplicationStatus
from course_portal.enrollment.services import REASON_MAX_LENGTH

#: more than a few pages' worth in one POST is a script, not a coordinator
BULK_MAX = 500
SEARCH_MAX = 100


def status_filter_choices() -> list[tuple[str, str]]:
    """Needs a decision (the default), all statuses, then each reviewable status."""
    return [
        (queue.NEEDS_DECISION, _l("Needs a decision (submitted or waitlisted)")),
        (queue.ALL, _l("All statuses")),
        *[(status.value, labels.STATUS_NAMES[status]) for status in queue.REVIEWABLE],
    ]


def funding_filter_choices() -> list[tuple[str, str]]:
    """Any funding, then each funding source."""
    return [("", _l("Any funding")), *labels.staff_funding_choices()]


def sort_choices() -> list[tuple[str, str]]:
    """The orders the queue offers."""
    return list(queue.SORTS.items())


class QueueFilterForm(Form):
    """The queue's filters, read from the query string (a GET form: no CSRF token)."""

    q = SearchField(
        _l("Name or email"),
        filters=[normalize_text],
        validators=[Optional(), at_most(SEARCH_MAX), SafeText()],
    )
    program = SelectField(_l("Program"), coerce=optional_id, choices=[], validate_choice=True,
                          widget=QuickSelect())
    intake = SelectField(_l("Intake"), coerce=optional_id, choices=[], validate_choice=True,
                         widget=QuickSelect())
    status = SelectField(_l("Status"), choices=options_of(status_filter_choices),
                         default=queue.NEEDS_DECISION)
    partner = SelectField(
        _l("Partner university"), coerce=optional_id, choices=[], validate_choice=True,
        widget=QuickSelect(),
    )
    funding = SelectField(_l("Funding"), choices=options_of(funding_filter_choices), default="")
    sort = SelectField(_l("Sort by"), choices=options_of(sort_choices), default=queue.DEFAULT_SORT)
    page = IntegerField(default=1, validators=[Optional(), between(1, 1_000_000)])

    def reset_invalid(self) -> None:
        """Validate, and put each invalid filter back to its default (its error stays shown)."""
        if self.validate():
            return
        for name in self.errors:
            field = self._fields[name]
            field.data = field.default

    def to_filters(self) -> queue.QueueFilters:
        """The filters as the queue service takes them."""
        return queue.QueueFilters(
            program_id=self.program.data,
            intake_id=self.intake.data,
            status=self.status.data or queue.NEEDS_DECISION,
            partner_id=self.partner.data,
            funding=self.funding.data or None,
            search=self.q.data or "",
            sort=self.sort.data or queue.DEFAULT_SORT,
        )


#: a ticked row: the application id, and the status the page showed ("12:submitted")
TICK = re.compile(r"^([0-9]{1,9})(?::([a-z]{1,20}))?$")


def ticked_application(value) -> tuple[int, str]:
    """(id, status seen) from a checkbox's value; a bare id has no status; the rest is refused."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, int):
        return value, ""
    found = TICK.match(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(_l("Not a valid choice."))
    return int(found.group(1)), found.group(2) or ""


class SomeSelected:
    """At least one application ticked, and not more than BULK_MAX."""

    def __call__(self, form, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one application."))
        if len(field.data) > BULK_MAX:
            raise ValidationError(
                _l("Decide on at most %(max)s applications at once.", max=BULK_MAX)
            )


def reason_field():
    """The reason of a decision, shown to the teacher; the service decides when it is required."""
    return TextAreaField(
        _l("Reason (required to reject; the teacher reads it)"),
        filters=[normalize_multiline],
        validators=[Optional(), at_most(REASON_MAX_LENGTH), SafeText(allow_newlines=True)],
    )


class DecisionButtons:
    """The three decision buttons; decision() says which one was pressed."""

    #: the fields of the form this is mixed into
    _fields: Mapping[str, Field]

    def decision(self) -> str:
        """The status the pressed button asks for, or "" when none was pressed."""
        for name, status in (("approve", ApplicationStatus.APPROVED),
                             ("waitlist", ApplicationStatus.WAITLISTED),
                             ("reject", ApplicationStatus.REJECTED)):
            if self._fields[name].data:
                return status.value
        return ""


class BulkDecisionForm(DecisionButtons, FlaskForm):
    """One decision, with one reason, for the ticked applications of the queue."""

    def seen(self) -> dict[int, str]:
        """The ticked application ids and the status the page showed for each."""
        return dict(self.ids.data or ())

    ids = SelectMultipleField(
        _l("Applications"), coerce=ticked_application, choices=[], validate_choice=False,
        validators=[SomeSelected()],
    )
    reason = reason_field()
    approve = SubmitField(_l("Approve selected"))
    waitlist = SubmitField(_l("Waitlist selected"))
    reject = SubmitField(_l("Reject selected"))


class DecisionForm(DecisionButtons, FlaskForm):
    """A decision on one application, with the status the coordinator saw when deciding."""

    #: the status shown on the page; a different one now means someone else decided first
    seen_status = HiddenField()
    reason = reason_field()
    approve = SubmitField(_l("Approve"))
    waitlist = SubmitField(_l("Put on the waiting list"))
    reject = SubmitField(_l("Reject"))


class ExtendConfirmationForm(FlaskForm):
    """A new last day for one approved teacher to confirm the seat, and why (posted with the
    prefix "extend", beside the decision form on the same page)."""

    until = DateField(_l("New last day to confirm"),
                      validators=[InputRequired(_l("Give the new last day to confirm."))])
    reason = TextAreaField(
        _l("Reason (kept in the audit log)"),
        filters=[normalize_multiline],
        validators=[DataRequired(_l("Give the reason for the new deadline.")),
                    at_most(REASON_MAX_LENGTH), SafeText(allow_newlines=True)],
    )
    submit = SubmitField(_l("Set the new deadline"))
