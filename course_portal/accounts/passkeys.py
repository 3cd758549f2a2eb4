"""Passkeys and security keys (WebAuthn) for staff: a second step beside the authenticator app.

A staff member registers passkeys from the two-step sign-in page and, after the password, signs
in with one instead of a code. The browser's part (navigator.credentials) is static/js/passkeys.js;
py_webauthn checks what it sends. Like two_factor.py, nothing here touches request, session or
flash: the views keep each challenge in the session, pass it in, and commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from course_portal.accounts.models import User
from course_portal.accounts.services import AccountError
from course_portal.core import audit
from course_portal.core.logsafe import loggable
from course_portal.db import Base, execute_dml, utcnow
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: the longest name a person gives a passkey ("YubiKey blue", "Work laptop")
NAME_MAX = 60
#: passkeys one person may hold: more is a script, not a person
MAX_PER_USER = 20
#: how long the browser and the portal wait for the authenticator, in seconds
CEREMONY_SECONDS = 300
#: what py_webauthn raises for a response it cannot read or does not accept; cbor2's and
#: base64's errors are ValueErrors
_REFUSED = (WebAuthnException, ValueError, TypeError, KeyError)


class Passkey(Base):
    """A WebAuthn credential of a staff member: a passkey or a security key.

    The public key is not a secret (it only checks signatures), so it is stored as it is.
    """

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: what the person called it, to tell their keys apart
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    #: the authenticator's id of the credential (at most 1023 bytes, WebAuthn says)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    #: COSE-encoded public key
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: the authenticator's signature counter at the last use; 0 for those that keep none
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    #: how the browser reaches it ("usb", "nfc", "internal", "hybrid"...), a hint for the next use
    transports: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class PasskeyError(AccountError):
    """A passkey, or a step of adding or using one, was refused."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the host they are bound to, the page origin, a name to show."""

    id: str
    origin: str
    name: str


def relying_party(config, served_url: str | None = None) -> RelyingParty:
    """The relying party of this portal: BASE_URL's host and origin.

    In development the address the browser opened counts instead (served_url, the request's
    host URL): a passkey needs a host name, not an IP address, so a developer opens
    http://localhost:5000 while `make run`'s BASE_URL says 127.0.0.1. Elsewhere only BASE_URL
    is trusted, never the Host header.
    """
    base = served_url if config.get("ENV") == "development" and served_url else config["BASE_URL"]
    parts = urlsplit(base)
    return RelyingParty(
        id=parts.hostname or "localhost",
        origin=f"{parts.scheme}://{parts.netloc}",
        name=config["TOTP_ISSUER"],
    )


def _user_handle(user: User, secret_key: str) -> bytes:
    """The opaque id an authenticator keeps for the account: neither the email nor the row id."""
    return hmac.new(secret_key.encode(), f"webauthn-user:{user.id}".encode(),
                    hashlib.sha256).digest()


def passkeys_of(user: User) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(db.session.scalars(
        select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)))


def count_of(user: User) -> int:
    """How many passkeys the user has."""
    return db.session.scalar(
        select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)) or 0


def has_passkeys(user: User) -> bool:
    """True when the user can sign in with a passkey."""
    return count_of(user) > 0


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for passkey in passkeys_of(user):
        transports = []
        for value in passkey.transports or []:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue
        descriptors.append(PublicKeyCredentialDescriptor(id=passkey.credential_id,
                                                         transports=transports or None))
    return descriptors


def _refuse(user: User, action: str, reason: str, detail: object) -> None:
    """Log why a response was refused (py_webauthn's words, never the response itself)."""
    log.info("passkey %s refused for user %s: %s %s", action, user.id, reason, loggable(detail))


# --- adding one -------------------------------------------------------------------------


def registration_options(user: User, rp: RelyingParty, secret_key: str) -> tuple[str, bytes]:
    """The options for navigator.credentials.create(), as JSON, and their challenge.

    The challenge is the caller's to keep (in the session) and to hand back to add_passkey
    once; the user's passkeys are excluded, so one authenticator is not registered twice.
    """
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=_user_handle(user, secret_key),
        user_name=user.email,
        user_display_name=user.name,
        timeout=CEREMONY_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    return options_to_json(options), options.challenge


def add_passkey(user: User, name: str, credential: str, challenge: bytes | None,
                rp: RelyingParty) -> Passkey:
    """Check the browser's answer to the registration options and keep the new passkey.

    challenge is the one the options carried, or None when there is none any more (used, or
    expired): then nothing is added.
    """
    if not user.needs_two_factor:
        raise PasskeyError(message=_l("Passkeys are for staff accounts."))
    if not credential:
        raise PasskeyError(message=_l(
            "The browser sent no passkey. Adding a passkey needs JavaScript; if it is off, "
            "keep signing in with the codes of your authenticator app."))
    if challenge is None:
        raise PasskeyError(message=_l(
            "This page had waited too long, or was sent twice. Try adding the passkey again."))
    if count_of(user) >= MAX_PER_USER:
        raise PasskeyError(message=_l(
            "You have as many passkeys as an account may hold (%(num)d). Remove one you no "
            "longer use first.", num=MAX_PER_USER))
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
        transports = json.loads(credential).get("response", {}).get("transports") or []
    except _REFUSED as error:
        _refuse(user, "registration", type(error).__name__, error)
        raise PasskeyError(message=_l(
            "The passkey could not be checked, so it was not added. Try again, or try another "
            "passkey or security key.")) from None
    taken = db.session.scalar(
        select(Passkey.id).where(Passkey.credential_id == verified.credential_id))
    if taken is not None:
        raise PasskeyError(message=_l("This passkey is already registered."))
    passkey = Passkey(
        user_id=user.id,
        name=name,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[str(t) for t in transports if isinstance(t, str)][:8],
        created_at=utcnow(),
    )
    db.session.add(passkey)
    db.session.flush()
    audit.record("auth.passkey_added", actor=user, target=user, passkey=passkey.id, name=name)
    log.info("user %s added passkey %s", user.id, passkey.id)
    return passkey


# --- signing in -------------------------------------------------------------------------


def sign_in_options(user: User, rp: RelyingParty) -> tuple[str, bytes]:
    """The options for navigator.credentials.get(), as JSON, and their challenge."""
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=CEREMONY_SECONDS * 1000,
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), options.challenge


def _raw_id(credential: str) -> bytes | None:
    try:
        answer = json.loads(credential)
        return base64url_to_bytes(answer["rawId"]) if isinstance(answer, dict) else None
    except _REFUSED:
        return None


def _accept_count(passkey: Passkey, count: int) -> bool:
    """Record the use with its counter, once: a counter not above the stored one is refused.

    Authenticators that keep no counter send 0 every time, which stays accepted. One UPDATE
    with the condition in it, as for authenticator codes, so two requests racing with the same
    answer cannot both win.
    """
    moment = utcnow()
    counted = Passkey.sign_count < count
    if count == 0:
        counted = or_(counted, Passkey.sign_count == 0)
    result = execute_dml(
        update(Passkey)
        .where(Passkey.id == passkey.id, counted)
        .values(sign_count=count, last_used_at=moment)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(passkey, "sign_count", count)
    set_committed_value(passkey, "last_used_at", moment)
    return True


def verify_sign_in(user: User, credential: str, challenge: bytes | None,
                   rp: RelyingParty) -> Passkey:
    """Check the browser's answer to the sign-in options: the passkey that signed, or PasskeyError.

    The answer must be signed by one of the user's passkeys, for this portal's origin and host,
    over the challenge of the options, with a counter above the last one seen. A refusal is
    written to the audit log, so the caller commits either way.
    """
    reason = "no_challenge" if challenge is None else "no_credential"
    passkey = None
    if credential and challenge is not None:
        raw_id = _raw_id(credential)
        passkey = None if raw_id is None else db.session.scalar(
            select(Passkey).where(Passkey.credential_id == raw_id, Passkey.user_id == user.id))
        reason = "unknown_passkey"
    if passkey is not None:
        assert challenge is not None  # a passkey is looked up only with a challenge
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp.id,
                expected_origin=rp.origin,
                credential_public_key=passkey.public_key,
                # the counter is checked by _accept_count, in the UPDATE that records it, so
                # that two requests racing with one answer cannot both pass (0 skips the
                # library's own check, which is the same rule without the race)
                credential_current_sign_count=0,
            )
        except _REFUSED as error:
            _refuse(user, "sign-in", type(error).__name__, error)
            reason = "invalid"
        else:
            if _accept_count(passkey, verified.new_sign_count):
                return passkey
            reason = "counter"
            log.warning("passkey %s of user %s sent counter %s, not above %s: a copy of it may "
                        "exist, or the answer is replayed", passkey.id, user.id,
                        verified.new_sign_count, passkey.sign_count)
    audit.record("auth.passkey_failed", actor=user, target=user, reason=reason,
                 passkey=passkey.id if passkey is not None else None)
    if reason == "no_challenge":
        raise PasskeyError(message=_l(
            "This page had waited too long, or was sent twice. Try the passkey again."))
    if reason == "no_credential":
        raise PasskeyError(message=_l(
            "The browser sent no passkey. A passkey needs JavaScript; without it, type the "
            "code of your authenticator app instead."))
    raise PasskeyError(message=_l(
        "This passkey was not accepted. Use a passkey you added to this account, or type the "
        "code of your authenticator app instead."))


# --- removing one -----------------------------------------------------------------------


def remove_passkey(user: User, passkey: Passkey) -> None:
    """Forget one of the user's passkeys.

    Staff cannot turn two-step sign-in off, so the last passkey of someone without an
    authenticator app (after an administrator's reset) stays until the app is set up again.
    """
    if passkey.user_id != user.id:
        raise PasskeyError(message=_l("This passkey is not yours."))
    if user.needs_two_factor and not user.has_two_factor and count_of(user) <= 1:
        raise PasskeyError(message=_l(
            "This is your only second step: staff cannot turn two-step sign-in off. Set up "
            "your authenticator app first, then remove the passkey."))
    audit.record("auth.passkey_removed", actor=user, target=user, passkey=passkey.id,
                 name=passkey.name)
    db.session.delete(passkey)
    db.session.flush()
    log.info("user %s removed passkey %s", user.id, passkey.id)


def remove_all(user: User) -> int:
    """Forget every passkey of the user (an administrator's reset of two-step sign-in)."""
    found = passkeys_of(user)
    for passkey in found:
        db.session.delete(passkey)
    db.session.flush()
    return len(found)

