"""What a teacher's profile must hold before they can apply: one rule, read by every form.

FOR_APPLYING is the rule. Registration and the profile form make its fields required when they
are built (ask_what_applying_needs), so the `required` attribute, the asterisk and the portal's
own message follow the rule, not the field's declaration; the application is refused while one
is empty (enrollment.drafts), naming the missing ones by these labels; and the apply page asks
an older account for exactly the missing ones (enrollment.forms.application_form). A
certificate needs more (certificates.requirements); those are asked for later, when the course
has ended.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, InputRequired, Optional, StopValidation

#: the profile's fields an application needs, in the order the forms show them, with the
#: label the forms show for each (the refusal names missing fields by it)
FOR_APPLYING = {
    "family_name_zh": _l("Family name in Chinese characters (姓)"),
    "given_name_zh": _l("Given name in Chinese characters (名)"),
    "family_name_latin": _l("Family name in Latin letters, as in your passport"),
    "given_name_latin": _l("Given name in Latin letters, as in your passport"),
    "partner_university_id": _l("University"),
    "department": _l("Department"),
    "position": _l("Position"),
}


def missing_for_applying(profile) -> list[str]:
    """The names of FOR_APPLYING's fields the profile lacks (all of them without a profile)."""
    if profile is None:
        return list(FOR_APPLYING)
    return [name for name in FOR_APPLYING if not _filled(getattr(profile, name, None))]


def _filled(value) -> bool:
    """A value an application can use: not None, not blank text."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


class NeededForApplying:
    """A field an application needs: required on the form, with the portal's own message.

    A choice of university is required only while there is one to choose: on a new portal
    without partner universities a teacher can still register, and is asked again before
    applying.
    """

    field_flags = {"required": True}

    def __call__(self, form, field):
        choices = getattr(field, "choices", None)
        if choices is not None and not any(value for value, *_rest in _pairs(choices)):
            return
        if not _filled(field.data):
            field.errors[:] = []  # the menu's "not a valid choice" for its blank choice
            raise StopValidation(_l("This field is required."))


#: what a field's declaration may say about being required; the rule replaces it
_REQUIREDNESS = (Optional, DataRequired, InputRequired, NeededForApplying)


def ask_what_applying_needs(form) -> None:
    """Make the form's fields that FOR_APPLYING names required, and only those optional.

    Called when the form is built, so the rule in force is the one read (a form class is made
    at import, the rule could change after). The fields are declared optional; each named here
    gets NeededForApplying in front of its other rules, the `required` flag that writes the
    HTML attribute and the asterisk, and loses the `optional` flag.
    """
    for name in FOR_APPLYING:
        field = form._fields.get(name)
        if field is None:
            continue
        rest = [rule for rule in field.validators if not isinstance(rule, _REQUIREDNESS)]
        field.validators = [NeededForApplying(), *rest]
        field.flags.required = True
        field.flags.optional = False


def _pairs(choices):
    """A SelectField's choices as (value, label) pairs, whatever form they were given in."""
    for choice in choices:
        if isinstance(choice, tuple | list):
            yield tuple(choice)
        else:
            yield (getattr(choice, "value", choice), getattr(choice, "label", choice))
