"""Languages: choosing the reader's locale and picking the right translation of content."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, get_locale, get_timezone, get_translations
from flask_login import current_user

#: the languages of the portal, in the order of the switcher, with their own names
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ru": "Русский"}


def select_locale() -> str:
    """The user's saved choice, then the visitor's switcher choice, then Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and jobs choose with force_locale()
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def current_language() -> str:
    """en, zh or ru, for the request being served (or the locale forced for an email).

    Read straight from where Flask-Babel keeps the chosen locale (g._flask_babel, which
    force_locale also sets) before asking get_locale(): a roster page asks about a thousand
    times, and each get_locale() walks three context-local proxies.
    """
    context = _cv_app.get(None)
    babel = getattr(context.g, "_flask_babel", None) if context is not None else None
    locale = getattr(babel, "babel_locale", None) or get_locale()
    return locale.language if locale is not None else "en"


def reader_locale_and_zone():
    """The Babel locale and time zone in force, read as current_language() reads the locale:
    from Flask-Babel's per-request namespace first, its own lookups only the first time."""
    context = _cv_app.get(None)
    babel = getattr(context.g, "_flask_babel", None) if context is not None else None
    locale = getattr(babel, "babel_locale", None) or get_locale()
    zone = getattr(babel, "babel_tzinfo", None) or get_timezone()
    return locale, zone


def _kept_translations():
    """The catalog kept for the locale in force, or None before the first lookup of it."""
    context = _cv_app.get(None)
    babel = getattr(context.g, "_flask_babel", None) if context is not None else None
    locale = getattr(babel, "babel_locale", None)
    if locale is not None:
        kept = getattr(babel, "portal_translations", None)
        if kept is not None and kept[0] is locale:
            return kept[1]
    return None


def _keep_translations(found) -> None:
    context = _cv_app.get(None)
    babel = getattr(context.g, "_flask_babel", None) if context is not None else None
    locale = getattr(babel, "babel_locale", None)
    if babel is not None and locale is not None:
        babel.portal_translations = (locale, found)


def translations():
    """The catalog of the locale in force (the request's, or one forced for an email).

    Flask-Babel's own lookup walks three context-local proxies and the locale again for every
    message; a page translates a hundred or more. The catalog is kept beside the chosen
    locale in Flask-Babel's per-request namespace, under the very locale object it belongs to,
    so force_locale() (which swaps that object) always gets its own.
    """
    return _kept_translations() or get_translations()


class PortalDomain(Domain):
    """Flask-Babel's message domain, looking its catalog up as translations() does: what
    Python code translates (every lazy label of a form, a status or a choice, about 150 on a
    queue page) goes through the domain, not through the templates' callables."""

    def get_translations(self):
        kept = _kept_translations()
        if kept is not None:
            return kept
        found = super().get_translations()
        _keep_translations(found)
        return found


def install_template_gettext(app) -> None:
    """Templates translate through translations(), after Flask-Babel has installed its own."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


class TranslatedMixin:
    """Models with field_en, field_zh and field_ru columns read through .t('field')."""

    def t(self, field: str, language: str | None = None) -> str:
        """The field in the reader's language, falling back to English, then any."""
        language = language or current_language()
        value = getattr(self, f"{field}_{language}", "")
        if value:
            return value
        for fallback in ("en", "zh", "ru"):
            value = getattr(self, f"{field}_{fallback}", "")
            if value:
                return value
        return ""
