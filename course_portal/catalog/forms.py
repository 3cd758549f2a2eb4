"""Catalog management forms: input rules only; the catalog's rules live in catalog.services."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from course_portal.accounts.forms import NoHiddenCharacters, optional_id
from course_portal.catalog.models import StudyForm, StudyMode
from course_portal.catalog.services import (
    CAPACITY_MAX,
    CODE_MAX,
    CODE_PATTERN,
    CONFIRM_WITHIN_DAYS_MAX,
    DESCRIPTION_MAX,
    DURATION_MONTHS,
    INTAKE_TITLE_MAX,
    MODULE_HOURS,
    TITLE_MAX,
)
from course_portal.core.form_messages import at_most, between, given, not_blank
from course_portal.core.text import SafeText, normalize_multiline, normalize_text
from course_portal.core.web import options_of

#: rows of the modules page: the program's modules and these many empty ones
EXTRA_MODULE_ROWS = 3
#: more rows than any program has; a longer list is refused, not processed
MODULES_MAX = 200
#: more partner universities than the portal will have
PARTNERS_MAX = 500

#: markup, template syntax and HTML entities have no place in a title shown on certificates
TITLE_MARKUP = re.compile(r"[<>{}]|&#|&[a-z]+;", re.IGNORECASE)
#: in a description: tags, template delimiters and HTML entities ("a < b" stays allowed)
DESCRIPTION_MARKUP = re.compile(r"<\s*[a-z/!?]|\{\{|\{%|\{#|&#|&[a-z]+;", re.IGNORECASE)


def upper(value):
    """Upper-case a code, as it is stored."""
    return value.upper() if isinstance(value, str) else value


class NoMarkup:
    """Refuse HTML and template syntax: every page escapes text, but a title travels far."""

    def __init__(self, pattern: re.Pattern, message):
        self.pattern = pattern
        self.message = message

    def __call__(self, form, field):
        if isinstance(field.data, str) and self.pattern.search(field.data):
            # str(): flask-babel's lazy strings count as safe HTML and would skip escaping
            raise ValidationError(str(self.message))


def title_rules(required: bool, max_length: int = TITLE_MAX) -> list:
    """Validators of a title: required or optional, length, no control or hidden characters."""
    return [
        not_blank() if required else Optional(),
        at_most(max_length),
        SafeText(),
        NoHiddenCharacters(),
        NoMarkup(TITLE_MARKUP, _l("A title cannot contain < > { } or HTML entities.")),
    ]


def description_rules() -> list:
    """Validators of a description: optional, length, line breaks allowed, no markup."""
    return [
        Optional(),
        at_most(DESCRIPTION_MAX),
        SafeText(allow_newlines=True),
        NoHiddenCharacters(),
        NoMarkup(DESCRIPTION_MARKUP,
                 _l("Write plain text: HTML tags, {{ }} and HTML entities are not shown as such.")),
    ]


def mode_choices() -> list[tuple[str, str]]:
    """How a program is taught, labelled in the reader's language."""
    labels = {
        StudyMode.ONLINE: _l("Online"),
        StudyMode.BLENDED: _l("Blended"),
        StudyMode.ON_SITE: _l("On site in St. Petersburg"),
    }
    return [(mode.value, labels[mode]) for mode in StudyMode]


class ProgramForm(FlaskForm):
    """A program's code, institute, titles and descriptions in three languages, and settings."""

    code = StringField(
        _l("Code"),
        filters=[normalize_text, upper],
        validators=[
            not_blank(),
            at_most(CODE_MAX),
            Regexp(CODE_PATTERN, message=_l("Up to 10 Latin letters, digits and hyphens, e.g. IE or AI-2.")),
        ],
    )
    institute_id = SelectField(
        _l("Institute"),
        coerce=optional_id,
        choices=[],
        validate_choice=True,
        validators=[InputRequired(message=_l("Choose the institute that runs the program."))],
    )
    title_en = StringField(_l("Title in English"), filters=[normalize_text], validators=title_rules(True))
    title_zh = StringField(_l("Title in Chinese"), filters=[normalize_text], validators=title_rules(False))
    title_ru = StringField(_l("Title in Russian"), filters=[normalize_text], validators=title_rules(False))
    description_en = TextAreaField(
        _l("Description in English"), filters=[normalize_multiline], validators=description_rules()
    )
    description_zh = TextAreaField(
        _l("Description in Chinese"), filters=[normalize_multiline], validators=description_rules()
    )
    description_ru = TextAreaField(
        _l("Description in Russian"), filters=[normalize_multiline], validators=description_rules()
    )
    mode = SelectField(_l("Mode"), choices=options_of(mode_choices), default=StudyMode.ONLINE.value)
    duration_months = IntegerField(
        _l("Duration in months"),
        default=3,
        validators=[given(), between(*DURATION_MONTHS)],
    )
    is_published = BooleanField(_l("Published in the catalog"))
    submit = SubmitField(_l("Save the program"))


def _typed(field) -> bool:
    """True when something was typed in the field (its raw input, before coercion)."""
    return bool(field.raw_data and str(field.raw_data[0]).strip())


class ModuleRowForm(Form):
    """One module row; a row left empty is ignored, a row marked Remove is deleted."""

    id = IntegerField(widget=HiddenInput(), validators=[Optional()])
    position = IntegerField(_l("No."), validators=[Optional(), between(1, 999)])
    title_en = StringField(_l("Title in English"), filters=[normalize_text], validators=title_rules(False))
    title_zh = StringField(_l("Title in Chinese"), filters=[normalize_text], validators=title_rules(False))
    title_ru = StringField(_l("Title in Russian"), filters=[normalize_text], validators=title_rules(False))
    hours = IntegerField(_l("Academic hours"), validators=[Optional(), between(*MODULE_HOURS)])
    remove = BooleanField(_l("Remove"))

    @property
    def is_blank(self) -> bool:
        """A new row with nothing typed but its number."""
        return not any(
            _typed(field)
            for field in (self.id, self.title_en, self.title_zh, self.title_ru, self.hours)
        )

    @property
    def is_kept(self) -> bool:
        """True when the row is a module after saving: not blank, not removed."""
        return not self.is_blank and not self.remove.data

    def validate(self, extra_validators=None) -> bool:
        """The field rules, and the required fields of a kept row; a dropped row passes."""
        valid = super().validate(extra_validators)
        if not self.is_kept:
            for field in self:
                field.errors = []
            return True
        for field, message in (
            (self.position, _l("Give the module a number.")),
            (self.title_en, _l("Give the module a title in English.")),
            (self.hours, _l("Give the academic hours.")),
        ):
            if not field.errors and field.data in (None, ""):
                field.errors = [message]
                valid = False
        return valid


class ModulesForm(FlaskForm):
    """The program's modules as one list."""

    modules = FieldList(FormField(ModuleRowForm), max_entries=MODULES_MAX)
    submit = SubmitField(_l("Save the modules"))


def study_form_choices() -> list[tuple[str, str]]:
    """The form of study as Russian law names it, labelled in the reader's language."""
    labels = {
        StudyForm.FULL_TIME: _l("Full-time (очная)"),
        StudyForm.PART_TIME: _l("Part-time (очно-заочная)"),
        StudyForm.EXTRAMURAL: _l("Extramural (заочная)"),
    }
    return [(form.value, labels[form]) for form in StudyForm]


class QuotaRowForm(Form):
    """The seats reserved for one partner university; empty means no quota."""

    partner_university_id = IntegerField(widget=HiddenInput(), validators=[given()])
    seats = IntegerField(_l("Seats"), validators=[Optional(), between(0, CAPACITY_MAX)])


class IntakeForm(FlaskForm):
    """An intake's title, dates, application window, seats, switch and quotas."""

    title = StringField(
        _l("Title in English"), filters=[normalize_text],
        validators=title_rules(True, INTAKE_TITLE_MAX),
    )
    title_zh = StringField(
        _l("Title in Chinese"), filters=[normalize_text],
        validators=title_rules(False, INTAKE_TITLE_MAX),
    )
    title_ru = StringField(
        _l("Title in Russian"), filters=[normalize_text],
        validators=title_rules(False, INTAKE_TITLE_MAX),
    )
    starts_on = DateField(_l("First day"), validators=[given()])
    ends_on = DateField(_l("Last day"), validators=[given()])
    applications_open_on = DateField(_l("Applications open on"), validators=[given()])
    applications_close_on = DateField(_l("Applications close on"), validators=[given()])
    capacity = IntegerField(
        _l("Seats"), validators=[given(), between(0, CAPACITY_MAX)]
    )
    is_open = BooleanField(_l("Accepting applications"), default=True)
    study_form = SelectField(
        _l("Form of study"), choices=options_of(study_form_choices), coerce=StudyForm,
        default=StudyForm.FULL_TIME.value,
    )
    delivery = SelectField(
        _l("How it is taught"), choices=options_of(mode_choices), coerce=StudyMode,
        default=StudyMode.ONLINE.value,
    )
    confirm_within_days = IntegerField(
        _l("Days to confirm a seat (empty: no confirmation)"),
        validators=[Optional(), between(1, CONFIRM_WITHIN_DAYS_MAX)],
    )
    quotas = FieldList(FormField(QuotaRowForm), max_entries=PARTNERS_MAX)
    submit = SubmitField(_l("Save the intake"))
