"""Account forms: input rules only (length, format, required); the rules of accounts live in services."""

from __future__ import annotations

import re
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    Optional,
    Regexp,
    ValidationError,
)

from course_portal.accounts.consent import AGREEMENTS, ConsentKind
from course_portal.accounts.models import AcademicTitle, EducationLevel, Sex
from course_portal.accounts.profile_rules import ask_what_applying_needs
from course_portal.accounts.profiles import partner_university_choices
from course_portal.accounts.services import PASSWORD_MAX_LENGTH, password_problems
from course_portal.core.form_messages import at_most, email_address, given, not_blank
from course_portal.core.i18n import LANGUAGE_NAMES
from course_portal.core.text import (
    BIDI_CONTROLS,
    INVISIBLES,
    PersonName,
    SafeText,
    Script,
    describe,
    normalize_text,
)
from course_portal.core.web import options, options_of

#: the column lengths of users and teacher_profiles, repeated here so the form refuses first
EMAIL_MAX = 254
NAME_ZH_MAX = 50
NAME_LATIN_MAX = 100
NAME_RU_MAX = 200
DEPARTMENT_MAX = 200
POSITION_MAX = 200
PHONE_MAX = 40
WECHAT_MAX = 40
SNILS_MAX = 14
DISPLAY_NAME_MAX = 200

#: digits, spaces, + ( ) - and dots: +86 138 0013 8000, (0931) 123-4567
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().\-]{4,}$")
#: WeChat IDs are letters, digits, _ and -; some teachers give their phone number instead
WECHAT_PATTERN = re.compile(r"^\+?[A-Za-z0-9_\-]+$")

#: СНИЛС as written: 123-456-789 01 (spaces or no separators are accepted too)
SNILS_PATTERN = re.compile(r"^(\d{3})[- ]?(\d{3})[- ]?(\d{3})[- ]?(\d{2})$")

#: the earliest date of birth the form accepts
BORN_AFTER = date(1900, 1, 1)


def lower_email(value):
    """Lower-case an email address, as it is stored."""
    return value.lower() if isinstance(value, str) else value


def optional_id(value):
    """Coerce a select's value to an id, or None for the blank choice; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    raise ValueError(_l("Not a valid choice."))


class NoHiddenCharacters:
    """Refuse direction overrides and invisible characters, which make text read otherwise than it is."""

    def __call__(self, form, field):
        value = field.data
        if not isinstance(value, str):
            return
        for ch in value:
            if ch in BIDI_CONTROLS or ch in INVISIBLES:
                raise ValidationError(
                    _l("Remove the invisible character %(char)s.", char=describe(ch))
                )


class NewPassword:
    """A new password: long enough in any script (after NFKC normalisation), not absurdly long."""

    def __call__(self, form, field):
        if not isinstance(field.data, str) or not field.data:
            return
        problems = password_problems(field.data)
        if problems:
            raise ValidationError(problems[0])


class BornOn:
    """A date of birth after 1900 and not in the future."""

    def __call__(self, form, field):
        if field.data is None:
            return
        if field.data < BORN_AFTER or field.data > date.today():
            raise ValidationError(_l("Check the date of birth."))


def snils_checksum_ok(digits: str) -> bool:
    """The control number of an 11-digit СНИЛС, by the Pension Fund's rule."""
    body, control = digits[:9], int(digits[9:])
    if int(body) <= 1001998:  # numbers up to 001-001-998 carry no control number
        return True
    total = sum(int(d) * weight for d, weight in zip(body, range(9, 0, -1), strict=True))
    expected = total if total < 100 else total % 101
    return (0 if expected in (100, 101) else expected) == control


def normalize_snils(value):
    """123-456-789 01, the way the register writes it, from any of the accepted spellings."""
    if not isinstance(value, str):
        return value
    match = SNILS_PATTERN.match(value.strip())
    if not match:
        return value.strip()
    a, b, c, d = match.groups()
    return f"{a}-{b}-{c} {d}"


class Snils:
    """An optional СНИЛС: eleven digits whose control number is right."""

    def __call__(self, form, field):
        value = field.data
        if not isinstance(value, str) or not value:
            return
        match = SNILS_PATTERN.match(value)
        if not match or not snils_checksum_ok("".join(match.groups())):
            raise ValidationError(_l("Check the SNILS: it has 11 digits, written as "
                                     "123-456-789 01. Leave it empty if you have none."))


def text_rules(max_length: int, required: bool = False) -> list:
    """Validators of a single-line text field: required or optional, length, no hidden characters."""
    first = not_blank() if required else Optional()
    return [first, at_most(max_length), SafeText(), NoHiddenCharacters()]


def name_rules(max_length: int, script: str | None = None, required: bool = True) -> list:
    """Validators of a name field: text rules, then the name rules, then the script."""
    rules = [*text_rules(max_length, required), PersonName()]
    if script:
        rules.append(Script(script))
    return rules


def language_choices() -> list[tuple[str, str]]:
    """The portal's languages, each in its own name."""
    return list(LANGUAGE_NAMES.items())


def sex_choices() -> list[tuple[str, str]]:
    """Sex as the federal register records it, with a blank first choice."""
    return [("", _l("Choose…")), (Sex.FEMALE.value, _l("Female")), (Sex.MALE.value, _l("Male"))]


def education_level_choices() -> list[tuple[str, str]]:
    """Levels of prior education as the federal register names them, with a blank first choice."""
    return [
        ("", _l("Choose…")),
        (EducationLevel.HIGHER.value, _l("Higher education (a university degree)")),
        (EducationLevel.SECONDARY_VOCATIONAL.value,
         _l("Secondary vocational education (a college diploma)")),
    ]


def citizenship_choices() -> list[tuple[str, str]]:
    """Every country by its ISO code, named in the reader's language, China first."""
    import pycountry
    from flask_babel import get_locale

    locale = get_locale()
    names = locale.territories if locale is not None else {}
    countries = sorted(
        ((c.alpha_2, names.get(c.alpha_2, c.name)) for c in pycountry.countries),
        key=lambda pair: pair[1],
    )
    first = [pair for pair in countries if pair[0] == "CN"]
    return [("", _l("Choose…")), *first, *[pair for pair in countries if pair[0] != "CN"]]


def optional_choice(value):
    """A select's blank choice as None, other values as they are."""
    return value or None


def teacher_zone_choices() -> list[tuple[str, str]]:
    """Time zones for a teacher, the default (Beijing) first."""
    from course_portal.core.timezones import TEACHER_ZONE, zone_choices, zone_label

    return [("", _l("Default: %(zone)s", zone=zone_label(TEACHER_ZONE))), *zone_choices()]


def staff_zone_choices() -> list[tuple[str, str]]:
    """Time zones for staff, the default (the portal's zone) first."""
    from course_portal.core.timezones import portal_zone_label, zone_choices

    return [("", _l("Default: %(zone)s", zone=portal_zone_label())), *zone_choices()]


def academic_title_choices() -> list[tuple[str, str]]:
    """Academic titles, labelled in the reader's language."""
    labels = {
        AcademicTitle.NONE: _l("No academic title"),
        AcademicTitle.ASSISTANT: _l("Teaching assistant"),
        AcademicTitle.LECTURER: _l("Lecturer"),
        AcademicTitle.ASSOCIATE_PROFESSOR: _l("Associate professor"),
        AcademicTitle.PROFESSOR: _l("Professor"),
    }
    return [(title.value, labels[title]) for title in AcademicTitle]


class TeacherProfileForm(FlaskForm):
    """What a visiting teacher tells about themselves; the view fills the university choices."""

    # What an application needs is declared optional here and made required when the form is
    # built, by the one rule in accounts.profile_rules (see __init__).
    family_name_zh = StringField(
        _l("Family name in Chinese characters (姓)"),
        filters=[normalize_text],
        validators=name_rules(NAME_ZH_MAX, "han", required=False),
    )
    given_name_zh = StringField(
        _l("Given name in Chinese characters (名)"),
        filters=[normalize_text],
        validators=name_rules(NAME_ZH_MAX, "han", required=False),
    )
    family_name_latin = StringField(
        _l("Family name in Latin letters, as in your passport"),
        filters=[normalize_text],
        validators=name_rules(NAME_LATIN_MAX, "latin", required=False),
    )
    given_name_latin = StringField(
        _l("Given name in Latin letters, as in your passport"),
        filters=[normalize_text],
        validators=name_rules(NAME_LATIN_MAX, "latin", required=False),
    )
    name_ru = StringField(
        _l("Name in Russian (Cyrillic)"),
        filters=[normalize_text],
        validators=[*name_rules(NAME_RU_MAX, "cyrillic", required=False)],
    )
    born_on = DateField(_l("Date of birth"), validators=[Optional(), BornOn()])
    sex = SelectField(_l("Sex"), choices=options_of(sex_choices), coerce=optional_choice)
    citizenship = SelectField(
        _l("Citizenship"), choices=options_of(citizenship_choices), default="CN",
    )
    education_level = SelectField(
        _l("Level of education"), choices=options_of(education_level_choices),
        coerce=optional_choice,
    )
    snils = StringField(
        _l("SNILS (Russian insurance number)"),
        filters=[normalize_text, normalize_snils],
        validators=[*text_rules(SNILS_MAX), Snils()],
    )
    partner_university_id = SelectField(
        _l("University"), coerce=optional_id, choices=[], validate_choice=True,
    )
    department = StringField(
        _l("Department"), filters=[normalize_text], validators=text_rules(DEPARTMENT_MAX)
    )
    position = StringField(
        _l("Position"), filters=[normalize_text], validators=text_rules(POSITION_MAX)
    )
    academic_title = SelectField(
        _l("Academic title"), choices=options_of(academic_title_choices),
        default=AcademicTitle.NONE.value,
    )
    phone = StringField(
        _l("Phone"),
        filters=[normalize_text],
        validators=[
            *text_rules(PHONE_MAX),
            Regexp(PHONE_PATTERN, message=_l("Write the phone number with digits, e.g. +86 138 0013 8000.")),
        ],
    )
    wechat_id = StringField(
        _l("WeChat ID"),
        filters=[normalize_text],
        validators=[
            *text_rules(WECHAT_MAX),
            Regexp(WECHAT_PATTERN, message=_l("A WeChat ID has only Latin letters, digits, _ and -.")),
        ],
    )
    locale = SelectField(
        _l("Language of the portal and of emails"), choices=options_of(language_choices),
        default="en",
    )
    timezone = SelectField(_l("Time zone"), choices=options_of(teacher_zone_choices), default="")
    wants_reminders = BooleanField(
        _l("Email me reminders: deadlines, the start of the course, module days"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ask_what_applying_needs(self)


def with_university_choices(form):
    """Fill a form's university menu from the partner universities, a blank choice first.

    With no partner university to choose, the menu is not required: a browser would refuse
    to send a form whose required menu offers only the blank choice.
    """
    choices = partner_university_choices()
    menu = form.partner_university_id
    menu.choices = options([("", _l("— choose your university —"))] + [
        (str(university_id), name) for university_id, name in choices
    ])
    if not choices:
        menu.flags.required = False
    return form


class RegistrationForm(TeacherProfileForm):
    """A teacher's registration: sign-in details and the whole profile."""

    #: a new teacher reads Beijing time and gets reminders; the profile changes both
    #: (None is how WTForms leaves out a field of the base form)
    timezone = None  # type: ignore[assignment]
    wants_reminders = None  # type: ignore[assignment]

    email = EmailField(
        _l("Email address"),
        filters=[normalize_text, lower_email],
        validators=[not_blank(), at_most(EMAIL_MAX), SafeText(), email_address()],
    )
    password = PasswordField(
        _l("Password"), validators=[given(), SafeText(), NewPassword()]
    )
    password_confirm = PasswordField(
        _l("Repeat the password"),
        validators=[given(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    #: the two consents, each beside its own text (accounts.consent): both needed to register
    consent_processing = BooleanField(
        AGREEMENTS[ConsentKind.PROCESSING],
        validators=[DataRequired(_l("Registration needs this consent: without it the portal "
                                    "cannot keep your account."))],
    )
    consent_transfer_abroad = BooleanField(
        AGREEMENTS[ConsentKind.TRANSFER_ABROAD],
        validators=[DataRequired(_l("Registration needs this consent: the portal and its "
                                    "coordinators are in Russia."))],
    )
    submit = SubmitField(_l("Create account"))


class ConsentForm(FlaskForm):
    """The consents a teacher has not yet given to the texts in force, asked again."""

    consent_processing = BooleanField(AGREEMENTS[ConsentKind.PROCESSING])
    consent_transfer_abroad = BooleanField(AGREEMENTS[ConsentKind.TRANSFER_ABROAD])
    next = HiddenField()
    submit = SubmitField(_l("Agree and continue"))

    def chosen(self) -> list[ConsentKind]:
        """The kinds whose checkbox is ticked."""
        return [kind for kind in ConsentKind if self[f"consent_{kind.value}"].data]


class ConsentWithdrawForm(FlaskForm):
    """Withdraw one consent from the profile."""

    kind = HiddenField(validators=[AnyOf([kind.value for kind in ConsentKind],
                                         message=_l("Choose one of the consents listed."))])
    submit = SubmitField(_l("Withdraw this consent"))


class StaffProfileForm(FlaskForm):
    """What a coordinator or admin may change about themselves."""

    display_name = StringField(
        _l("Your name"),
        filters=[normalize_text],
        validators=[*text_rules(DISPLAY_NAME_MAX, required=True), PersonName()],
    )
    locale = SelectField(_l("Language of the portal and of emails"), choices=language_choices)
    timezone = SelectField(_l("Time zone"), choices=options_of(staff_zone_choices), default="")
    submit = SubmitField(_l("Save"))


class LoginForm(FlaskForm):
    """Sign in with email and password."""

    email = EmailField(
        _l("Email address"),
        filters=[normalize_text, lower_email],
        validators=[not_blank(), at_most(EMAIL_MAX), SafeText(), email_address()],
    )
    password = PasswordField(
        _l("Password"), validators=[given(), at_most(PASSWORD_MAX_LENGTH)]
    )
    remember = BooleanField(_l("Remember me on this device"))
    submit = SubmitField(_l("Sign in"))


class PasswordChangeForm(FlaskForm):
    """A new password, with the current one to prove it is the owner."""

    current_password = PasswordField(
        _l("Current password"), validators=[given(), at_most(PASSWORD_MAX_LENGTH)]
    )
    new_password = PasswordField(
        _l("New password"), validators=[given(), SafeText(), NewPassword()]
    )
    new_password_confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[given(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField(
        _l("Email address"),
        filters=[normalize_text, lower_email],
        validators=[not_blank(), at_most(EMAIL_MAX), SafeText(), email_address()],
    )
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    """Choose a new password from a reset link."""

    new_password = PasswordField(
        _l("New password"), validators=[given(), SafeText(), NewPassword()]
    )
    new_password_confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[given(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Set the new password"))


class SignInCodeForm(FlaskForm):
    """The second step of signing in: a code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Sign-in code"),
        validators=[not_blank(), at_most(32)],
    )
    submit = SubmitField(_l("Verify"))


class TwoFactorSetupForm(FlaskForm):
    """The first code of a newly added authenticator, proving it has the secret."""

    code = StringField(
        _l("Code from the app"),
        validators=[not_blank(), at_most(16)],
    )
    submit = SubmitField(_l("Turn on two-step sign-in"))


class RecoveryCodesForm(FlaskForm):
    """Make new recovery codes; the password is asked again."""

    password = PasswordField(
        _l("Your password"), validators=[given(), at_most(PASSWORD_MAX_LENGTH)]
    )
    submit = SubmitField(_l("Make new recovery codes"))


def password_hint() -> str:
    """The rule a new password follows, for the hint under the field."""
    return _l(
        "At least %(num)d characters, in any language.",
        num=current_app.config["PASSWORD_MIN_LENGTH"],
    )
