"""Setups of the passkey forms: a challenge waiting in the session, and a software authenticator
that answers it, so the baseline is a passkey the portal accepts."""

from __future__ import annotations

from sqlalchemy import select

from course_portal.accounts import session as sessions
from course_portal.accounts.passkeys import Passkey
from course_portal.extensions import db
from tests import factories
from tests.accounts.webauthn_authenticator import SoftAuthenticator, b64url
from tests.hostile.conftest import make_role
from tests.hostile.spec import Env, commit


def _challenge(user) -> tuple[bytes, dict]:
    challenge = b"hostile-challenge-" + str(user.id).encode()
    return challenge, {"user": user.id, "challenge": b64url(challenge),
                       "until": sessions.now() + 300}


def add_setup(role):
    user = make_role(role)
    challenge, kept = _challenge(user)
    return Env(url="/two-factor/passkeys/new", user=user,
               rows={"key": SoftAuthenticator(), "challenge": challenge},
               session={"passkey_registration": kept})


def add_baseline(env: Env) -> dict:
    return {"name": "YubiKey blue", "credential": env.rows["key"].register(env.rows["challenge"])}


def add_stored(env: Env, name: str):
    return db.session.scalar(select(Passkey.name).where(Passkey.user_id == env.user.id))


def sign_in_setup(role):
    staff = commit(factories.make_user(role="coordinator"))
    key = SoftAuthenticator()
    db.session.add(Passkey(user_id=staff.id, name="YubiKey", credential_id=key.credential_id,
                           public_key=key.cose_public_key(), sign_count=0, transports=["usb"]))
    db.session.commit()
    challenge, kept = _challenge(staff)
    pending = {"user": staff.id, "token": staff.session_token, "until": sessions.now() + 300,
               "next": "", "remember": False}
    return Env(url="/login/passkey", user=None, rows={"key": key, "challenge": challenge},
               session={sessions.PENDING: pending, "passkey_sign_in": kept})


def sign_in_baseline(env: Env) -> dict:
    return {"credential": env.rows["key"].sign(env.rows["challenge"])}
