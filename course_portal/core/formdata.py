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


#: the message a field gets for a file in place of its text
FILE_REFUSED = _l("This field takes text, not a file.")


def _guarded(original):
    def process_formdata(self, valuelist):
        if any(not isinstance(value, str) for value in valuelist or ()):
            # empty for the validators that follow and for the page shown again: a file cannot
            # be shown back. Optional() would clear the message below, so post_validate puts
            # it back.
            self.data = "" if isinstance(self, fields.StringField) else None
            self.raw_data = []
            self.file_refused = True
            raise ValueError(FILE_REFUSED)
        return original(self, valuelist)

    process_formdata.guarded = True  # type: ignore[attr-defined]  # a marker read by install()
    return process_formdata


def _post_validate(self, form, validation_stopped):
    """After the validators: a field that got a file says so, and only that."""
    if getattr(self, "file_refused", False):
        self.errors = [FILE_REFUSED]
    return _base_post_validate(self, form, validation_stopped)


_base_post_validate = fields.Field.post_validate


def install() -> None:
    """Guard every text-reading field class once per process."""
    for cls in TEXT_READING:
        method = cls.__dict__.get("process_formdata")
        if method is not None and not getattr(method, "guarded", False):
            # patching WTForms' classes is the point here
            cls.process_formdata = _guarded(method)  # type: ignore[method-assign]
    if fields.Field.post_validate is not _post_validate:
        fields.Field.post_validate = _post_validate  # type: ignore[method-assign]
