"""The audit-log actions of accounts, with the labels the audit page shows for them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: every action accounts/ records with core.audit.record(), as "<thing>.<verb>"
ACCOUNT_ACTIONS = {
    "auth.signed_in": _l("Signed in"),
    "auth.sign_in_failed": _l("Sign-in failed"),
    "auth.signed_out_everywhere": _l("Signed out on every device"),
    "auth.two_factor_enabled": _l("Two-step sign-in set up"),
    "auth.two_factor_failed": _l("Two-step sign-in code refused"),
    "auth.recovery_code_used": _l("Recovery code used to sign in"),
    "auth.recovery_codes_regenerated": _l("New recovery codes made"),
    "auth.two_factor_reset": _l("Two-step sign-in reset by an administrator"),
    "auth.passkey_added": _l("Passkey added"),
    "auth.passkey_removed": _l("Passkey removed"),
    "auth.passkey_failed": _l("Passkey refused at sign-in"),
    "auth.password_changed": _l("Password changed"),
    "auth.password_reset": _l("Password reset from an emailed link"),
    "user.created": _l("Account created"),
    "user.email_confirmed": _l("Email address confirmed"),
    "user.disabled": _l("Account disabled"),
    "profile.name_ru_set": _l("Cyrillic name set by a coordinator"),
    "consent.given": _l("Consent to personal data given"),
    "consent.withdrawn": _l("Consent to personal data withdrawn"),
    "calendar.token_reset": _l("Calendar feed given a new address"),
}
