"""What a teacher's profile must hold before they can apply: one rule, read by every form.

Registration and the profile form mark these fields required (TeacherProfileForm builds their
validators from FOR_APPLYING), and an application is refused while one is empty
(enrollment.drafts), naming the missing ones by the labels the forms show. A certificate needs
more (certificates.requirements); those are asked for later, when the course has ended.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation

#: the profile's fields an application needs, with the label the forms show for each
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
    return [name for name in FOR_APPLYING if not getattr(profile, name)]


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
        if field.data in (None, "") or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            raise StopValidation(_l("This field is required."))


def _pairs(choices):
    """A SelectField's choices as (value, label) pairs, whatever form they were given in."""
    for choice in choices:
        if isinstance(choice, tuple | list):
            yield tuple(choice)
        else:
            yield (getattr(choice, "value", choice), getattr(choice, "label", choice))
