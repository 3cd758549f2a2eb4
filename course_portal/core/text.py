"""Rules for text people type: normalisation, and what a name may not contain."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

#: bidirectional overrides and isolates, which can make a name read differently than it is
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: characters that take no space and hide in a name
INVISIBLES = set("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u3164\u115f\u1160")
#: markup and template syntax have no place in a person's name
MARKUP = re.compile(r"[<>{}\[\]\\`$%]|&#|&[a-z]+;", re.IGNORECASE)


def normalize_text(value):
    """NFC-normalise and trim a text field; other values pass through."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", value).strip()


def normalize_multiline(value):
    """NFC-normalise, unify line endings and trim a multi-line field."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _control_characters(value: str, allow_newlines: bool) -> list[str]:
    allowed = {"\n", "\t"} if allow_newlines else set()
    return [
        ch for ch in value
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in allowed
    ]


def describe(ch: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE: how to name a character in a message."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".strip()


class SafeText:
    """Refuse NUL bytes and other control or unassigned characters in any text field."""

    def __init__(self, allow_newlines: bool = False):
        self.allow_newlines = allow_newlines

    def __call__(self, form, field):
        value = field.data
        if not isinstance(value, str) or not value:
            return
        bad = _control_characters(value, self.allow_newlines)
        if bad:
            raise ValidationError(
                _l("Remove the invisible control character %(char)s.", char=describe(bad[0]))
            )


class PersonName:
    """Refuse bidi overrides, invisible characters, markup and template syntax in a name."""

    def __call__(self, form, field):
        value = field.data
        if not isinstance(value, str) or not value:
            return
        for ch in value:
            if ch in BIDI_CONTROLS:
                raise ValidationError(
                    _l("A name cannot contain the direction control %(char)s.", char=describe(ch))
                )
            if ch in INVISIBLES or unicodedata.category(ch) == "Cf":
                raise ValidationError(
                    _l("A name cannot contain the invisible character %(char)s.", char=describe(ch))
                )
        if MARKUP.search(value):
            raise ValidationError(
                _l("A name cannot contain the characters < > { } [ ] \\ ` % $ or HTML entities.")
            )
        if not any(unicodedata.category(ch).startswith("L") for ch in value):
            raise ValidationError(_l("A name needs at least one letter."))


class Script:
    """Require letters of one script in a name: 'han' for 汉字, 'latin' for pinyin, 'cyrillic'."""

    def __init__(self, script: str):
        self.script = script

    def __call__(self, form, field):
        value = field.data
        if not isinstance(value, str) or not value:
            return
        for ch in value:
            if ch in " -'·.":
                continue
            name = unicodedata.name(ch, "")
            if self.script == "han" and not (
                name.startswith("CJK UNIFIED IDEOGRAPH") or name.startswith("CJK COMPATIBILITY IDEOGRAPH") or ch == "·"
            ):
                raise ValidationError(
                    _l("Write this in Chinese characters (汉字); %(char)s is not one.", char=ch)
                )
            if self.script == "cyrillic" and not name.startswith("CYRILLIC"):
                raise ValidationError(
                    _l("Write this in Cyrillic letters, e.g. Оуян Нана; %(char)s is not one.",
                       char=ch)
                )
            if self.script == "latin" and not name.startswith("LATIN"):
                raise ValidationError(
                    _l("Write this in Latin letters as in your passport; %(char)s is not one.", char=ch)
                )
