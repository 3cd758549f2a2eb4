"""The messages of forms in the portal's words, from the portal's catalogs.

WTForms brings messages of its own, and Flask-WTF translates them from WTForms' catalogs, whose
words are not the portal's (该字段是必填字段。 where the portal says 此项为必填项。, 无效的 Email
地址。 where it says 电子邮箱); plain wtforms.Form subclasses (the filters, the rows of a
FieldList) would not translate them at all. So every validator gets its message= from here, and
install() makes every form translate what WTForms still says by itself (a menu's value that is
not a choice, a date or a number that is not one: no validator to pass a message to) through
BUILT_IN and the portal's catalogs. tests/core/test_form_messages.py validates every form of
the portal in the three languages and fails on a message that is not the portal's.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange

REQUIRED = _l("This field is required.")
#: Length's message: WTForms fills %(max)d and %(length)d
TOO_LONG = _l("Shorten this to %(max)d characters; it has %(length)d now.")
NOT_AN_EMAIL = _l("This is not a valid email address.")
NOT_A_CHOICE = _l("Not a valid choice.")
NOT_A_DATE = _l("Give a date.")
NOT_A_WHOLE_NUMBER = _l("Enter a whole number.")
NOT_A_NUMBER = _l("Enter a number.")
#: NumberRange's message: WTForms fills %(min)s and %(max)s
OUT_OF_RANGE = _l("Enter a number from %(min)s to %(max)s.")


def not_blank() -> DataRequired:
    """A text that must not be blank."""
    return DataRequired(REQUIRED)


def given() -> InputRequired:
    """A value that must be sent (a number, a date, a password, whose 0 or spaces count)."""
    return InputRequired(REQUIRED)


def at_most(max_length: int) -> Length:
    """At most max_length characters."""
    return Length(max=max_length, message=TOO_LONG)


def email_address() -> Email:
    """An email address, as the portal's messages name one."""
    return Email(NOT_AN_EMAIL)


def between(low, high) -> NumberRange:
    """A number from low to high, both included."""
    return NumberRange(low, high, message=OUT_OF_RANGE)


#: what WTForms' fields say by themselves, by WTForms' msgid, in the portal's words
BUILT_IN = {
    "This field is required.": REQUIRED,  # Flask-WTF's FileRequired without a message
    "Not a valid choice.": NOT_A_CHOICE,
    "Invalid Choice: could not coerce.": NOT_A_CHOICE,
    "Invalid choice(s): one or more data inputs could not be coerced.": NOT_A_CHOICE,
    "Not a valid date value.": NOT_A_DATE,
    "Not a valid datetime value.": NOT_A_DATE,
    "Not a valid integer value.": NOT_A_WHOLE_NUMBER,
    "Not a valid decimal value.": NOT_A_NUMBER,
    "Not a valid float value.": NOT_A_NUMBER,
    "Invalid email address.": NOT_AN_EMAIL,
    "Number must be between %(min)s and %(max)s.": OUT_OF_RANGE,
}
#: the same for the messages WTForms chooses by a number (singular msgid); the portal's
#: words name no count before a noun, so they need no plural
BUILT_IN_PLURAL = {
    "'%(value)s' is not a valid choice for this field.": NOT_A_CHOICE,
    "Field cannot be longer than %(max)d character.": TOO_LONG,
}


class FormTranslations:
    """The gettext WTForms' fields call: BUILT_IN's words, else the portal's catalog."""

    def gettext(self, string):
        from course_portal.core.i18n import translations

        known = BUILT_IN.get(string)
        return str(known) if known is not None else translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        from course_portal.core.i18n import translations

        known = BUILT_IN_PLURAL.get(singular)
        if known is not None:
            return str(known)
        return translations().ungettext(singular, plural, n)


_TRANSLATIONS = FormTranslations()


def _get_translations(meta, form):
    return _TRANSLATIONS


def install() -> None:
    """Every form translates through FormTranslations: FlaskForm and plain wtforms.Form alike."""
    from flask_wtf import FlaskForm
    from wtforms.meta import DefaultMeta

    FlaskForm.Meta.get_translations = _get_translations
    # replacing WTForms' method is the point here
    DefaultMeta.get_translations = _get_translations  # type: ignore[method-assign]
