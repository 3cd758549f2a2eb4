"""Forms of who issues and who signs certificates: input rules only; the rules live in issuer.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import ValidationError

from course_portal.accounts.forms import text_rules
from course_portal.catalog.forms import TITLE_MARKUP, NoMarkup
from course_portal.core.text import PersonName, Script, normalize_text

#: the column lengths of issuing_organisation and signatories, so the form refuses first
FULL_NAME_MAX = 500
CITY_MAX = 100
SIGNATORY_NAME_MAX = 200
POSITION_MAX = 300
AUTHORITY_MAX = 300


def printed_rules(max_length: int, required: bool) -> list:
    """Validators of text printed on every certificate: text rules and no markup."""
    # a file posted in place of the text is refused before these (core.formdata)
    return [
        *text_rules(max_length, required=required),
        NoMarkup(TITLE_MARKUP, _l("This text is printed on certificates: it cannot contain "
                                  "< > { } or HTML entities.")),
    ]


def signatory_name_rules(script: str) -> list:
    """Validators of a signatory's name in one language: a person's name in its script."""
    return [*text_rules(SIGNATORY_NAME_MAX, required=True), PersonName(),
            Script(script)]


class OrganisationForm(FlaskForm):
    """The organisation's full legal name and city in three languages, and the seal's image."""

    full_name_ru = StringField(_l("Full name in Russian, as in the charter"),
                               filters=[normalize_text],
                               validators=printed_rules(FULL_NAME_MAX, True))
    full_name_en = StringField(_l("Full name in English"), filters=[normalize_text],
                               validators=printed_rules(FULL_NAME_MAX, True))
    full_name_zh = StringField(_l("Full name in Chinese"), filters=[normalize_text],
                               validators=printed_rules(FULL_NAME_MAX, True))
    city_ru = StringField(_l("City in Russian"), filters=[normalize_text],
                          validators=printed_rules(CITY_MAX, True))
    city_en = StringField(_l("City in English"), filters=[normalize_text],
                          validators=printed_rules(CITY_MAX, True))
    city_zh = StringField(_l("City in Chinese"), filters=[normalize_text],
                          validators=printed_rules(CITY_MAX, True))
    seal = FileField(_l("Image of the seal (PNG)"))
    remove_seal = BooleanField(_l("Remove the seal's image: certificates mark its place М. П."))
    submit = SubmitField(_l("Save the organisation"))

    def validate_remove_seal(self, field):
        """A new image and its removal at once: which was meant cannot be guessed."""
        if field.data and self.seal.data:
            raise ValidationError(str(_l("Either choose a new image or remove the seal's "
                                         "image, not both.")))


class SignatoryForm(FlaskForm):
    """Who signs one line of the certificates: name, position and authority in three languages."""

    name_ru = StringField(_l("Name in Russian, e.g. Иванов И. И."), filters=[normalize_text],
                          validators=signatory_name_rules("cyrillic"))
    name_en = StringField(_l("Name in English"), filters=[normalize_text],
                          validators=signatory_name_rules("latin"))
    name_zh = StringField(_l("Name in Chinese"), filters=[normalize_text],
                          validators=signatory_name_rules("han"))
    position_ru = StringField(_l("Position in Russian"), filters=[normalize_text],
                              validators=printed_rules(POSITION_MAX, True))
    position_en = StringField(_l("Position in English"), filters=[normalize_text],
                              validators=printed_rules(POSITION_MAX, True))
    position_zh = StringField(_l("Position in Chinese"), filters=[normalize_text],
                              validators=printed_rules(POSITION_MAX, True))
    authority_ru = StringField(_l("Signs by order, in Russian"), filters=[normalize_text],
                               validators=printed_rules(AUTHORITY_MAX, False))
    authority_en = StringField(_l("Signs by order, in English"), filters=[normalize_text],
                               validators=printed_rules(AUTHORITY_MAX, False))
    authority_zh = StringField(_l("Signs by order, in Chinese"), filters=[normalize_text],
                               validators=printed_rules(AUTHORITY_MAX, False))
    signature = FileField(_l("Image of the signature (PNG)"))
    remove_signature = BooleanField(_l("Remove the signature's image"))
    submit = SubmitField(_l("Save the signatory"))

    def validate_remove_signature(self, field):
        """A new image and its removal at once: which was meant cannot be guessed."""
        if field.data and self.signature.data:
            raise ValidationError(str(_l("Either choose a new image or remove the signature's "
                                         "image, not both.")))

