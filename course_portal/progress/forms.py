"""Progress forms: input rules only; the rules of results and completion live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import HiddenInput

from course_portal.core.form_messages import at_most, between, given
from course_portal.core.web import options
from course_portal.progress.models import AssessmentKind

#: the largest CSV file accepted for an import, in bytes: a roster of 2,000 teachers fits, and
#: sent back for confirmation it stays under Flask's MAX_FORM_MEMORY_SIZE (500 kB)
CSV_MAX_BYTES = 200_000
#: more modules than any program has; a longer list is refused, not processed
MODULES_MAX = 200


class RosterForm(FlaskForm):
    """The roster grid: its cells are read from the request by name; this form checks CSRF."""

    #: the history position the grid was loaded at, to notice someone else's save meanwhile
    stamp = HiddenField()
    submit = SubmitField(_l("Save the results"))


class CloseIntakeForm(FlaskForm):
    """Confirm closing an intake."""

    submit = SubmitField(_l("Close the intake"))


class RulesForm(FlaskForm):
    """A program's completion rules."""

    min_attendance_percent = IntegerField(
        _l("Minimum attendance as a share of the program's hours, %"),
        validators=[given(), between(0, 100)],
        default=80,
    )
    final_kind = SelectField(
        _l("Final assessment"),
        choices=options([
            (AssessmentKind.PASS_FAIL.value, _l("Passed or failed")),
            (AssessmentKind.SCORE.value, _l("A score with a pass mark")),
        ]),
        default=AssessmentKind.PASS_FAIL.value,
    )
    max_score = IntegerField(_l("Best score possible"),
                             validators=[Optional(), between(1, 10_000)], default=100)
    pass_mark = IntegerField(_l("Pass mark (lowest passing score)"),
                             validators=[Optional(), between(0, 10_000)])
    submit = SubmitField(_l("Save the rules"))


class ModuleDatesForm(Form):
    """One module's dates in an intake; the label is set by the view from the module's title."""

    module_id = IntegerField(widget=HiddenInput(), validators=[given()])
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("To"), validators=[Optional()])


class ScheduleForm(FlaskForm):
    """The dates of every module of an intake."""

    modules = FieldList(FormField(ModuleDatesForm), max_entries=MODULES_MAX)
    submit = SubmitField(_l("Save the schedule"))


class ImportUploadForm(FlaskForm):
    """Step 1 of a CSV import: the file."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose the CSV file."))])
    submit = SubmitField(_l("Preview the import"))


class ImportConfirmForm(FlaskForm):
    """Step 2 of a CSV import: the previewed content, sent back to be written."""

    content = TextAreaField(validators=[given(), at_most(CSV_MAX_BYTES)])
    stamp = HiddenField()
    submit = SubmitField(_l("Import these results"))
