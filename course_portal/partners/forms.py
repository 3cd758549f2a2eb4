"""The partner pages' forms: the list's filters, and adding or disabling a liaison."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Form,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Optional

from course_portal.accounts.forms import (
    DISPLAY_NAME_MAX,
    EMAIL_MAX,
    language_choices,
    lower_email,
    optional_id,
    text_rules,
)
from course_portal.core.form_messages import at_most, between, email_address, not_blank
from course_portal.core.text import PersonName, SafeText, normalize_text
from course_portal.core.web import options_of
from course_portal.enrollment.labels import STATUS_NAMES
from course_portal.enrollment.queue import REVIEWABLE
from course_portal.partners.queries import ANY_STATUS, NO_APPLICATION, PartnerFilters

SEARCH_MAX = 100


def status_choices() -> list[tuple[str, str]]:
    """Any status, teachers without an application yet, then each status an application shows."""
    return [
        (ANY_STATUS, _l("Any status")),
        (NO_APPLICATION, _l("No application yet")),
        *[(status.value, STATUS_NAMES[status]) for status in REVIEWABLE],
    ]


class PartnerFilterForm(Form):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    q = SearchField(
        _l("Name or email"),
        filters=[normalize_text],
        validators=[Optional(), at_most(SEARCH_MAX), SafeText()],
    )
    intake = SelectField(_l("Intake"), coerce=optional_id, choices=[], validate_choice=True)
    status = SelectField(_l("Status"), choices=options_of(status_choices), default=ANY_STATUS)
    page = IntegerField(default=1, validators=[Optional(), between(1, 1_000_000)])

    def reset_invalid(self) -> None:
        """Validate, and put each invalid filter back to its default (its error stays shown)."""
        if self.validate():
            return
        for name in self.errors:
            field = self._fields[name]
            field.data = field.default

    def to_filters(self) -> PartnerFilters:
        """The filters as the queries take them."""
        return PartnerFilters(
            intake_id=self.intake.data,
            status=self.status.data or ANY_STATUS,
            search=self.q.data or "",
        )


class AddLiaisonForm(FlaskForm):
    """A coordinator adds a liaison: the university, the address, the name, the language."""

    partner = SelectField(
        _l("Partner university"), coerce=optional_id, choices=[], validate_choice=True,
        validators=[DataRequired(message=_l("Choose a university from the list."))],
    )
    email = EmailField(
        _l("Email address"),
        filters=[normalize_text, lower_email],
        validators=[not_blank(), at_most(EMAIL_MAX), SafeText(), email_address()],
    )
    display_name = StringField(
        _l("Name"),
        filters=[normalize_text],
        validators=[*text_rules(DISPLAY_NAME_MAX, required=True), PersonName()],
    )
    locale = SelectField(_l("Language of the portal and of emails"),
                         choices=options_of(language_choices), default="zh")
    submit = SubmitField(_l("Add the liaison"))


class DisableLiaisonForm(FlaskForm):
    """The confirmation of disabling a liaison: only the CSRF token and the button."""

    submit = SubmitField(_l("Disable"))
