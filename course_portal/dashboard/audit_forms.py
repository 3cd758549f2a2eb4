"""The audit log's filters, read from the query string (a GET form: no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form, IntegerField, SelectField, StringField
from wtforms.validators import Optional

from course_portal.core.form_messages import at_most, between
from course_portal.core.text import SafeText, normalize_text
from course_portal.dashboard.audit import AuditFilters

TEACHER_SEARCH_MAX = 100


class AuditFilterForm(Form):
    """Who acted, for which teacher, what, and when; the view fills in the choices."""

    actor = SelectField(_l("Who"), choices=[], default="", validate_choice=True)
    teacher = StringField(_l("Teacher (name in 汉字 or pinyin, or email)"),
                          filters=[normalize_text],
                          # SafeText: a NUL byte would reach PostgreSQL's LIKE and fail there
                          validators=[at_most(TEACHER_SEARCH_MAX), SafeText()])
    action = SelectField(_l("Action"), choices=[], default="", validate_choice=True)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional(), between(1, 1_000_000)])

    def reset_invalid(self) -> None:
        """Validate, and put each invalid filter back to its default (its error stays shown)."""
        if self.validate():
            return
        for name in self.errors:
            self._fields[name].data = self._fields[name].default

    def to_filters(self) -> AuditFilters:
        """The filters as the audit module takes them."""
        return AuditFilters(
            actor=self.actor.data or "", teacher=(self.teacher.data or "").strip(),
            action=self.action.data or "", date_from=self.date_from.data,
            date_to=self.date_to.data,
        )
