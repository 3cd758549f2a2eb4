"""A text field posted as a file gets the form's message, never a 500.

A multipart post may carry a file part under a text field's name (a script, a confused client).
WTForms then hands the field a FileStorage, and its validators (Length's len(), the filters'
str methods) raise TypeError: a 500 on any form with a file input. Every field that reads text
here first refuses anything that is not text, with a message on the field; FileField and
MultipleFileField, which take files, are left alone.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import fields

#: the fields that read their value as text from the posted form (their subclasses inherit
#: the guard: TextAreaField, EmailField, PasswordField, RadioField, ...)
TEXT_READING = (fields.StringField, fields.IntegerField, fields.DecimalField, fields.FloatField,
                fields.DateField, fields.DateTimeField, fields.TimeField, fields.SelectField,
                fields.SelectMultipleField, fields.BooleanField)


def _guarded(original):
    def process_formdata(self, valuelist):
        if any(not isinstance(value, str) for value in valuelist or ()):
            # empty text for the validators that follow, which then say what they say too
            self.data = "" if isinstance(self, fields.StringField) else None
            self.raw_data = []  # re-rendered empty: a file cannot be shown back
            raise ValueError(_l("This field takes text, not a file."))
        return original(self, valuelist)

    process_formdata.guarded = True
    return process_formdata


def install() -> None:
    """Guard every text-reading field class once per process."""
    for cls in TEXT_READING:
        method = cls.__dict__.get("process_formdata")
        if method is not None and not getattr(method, "guarded", False):
            cls.process_formdata = _guarded(method)
