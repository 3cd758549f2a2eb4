"""Helpers for the accounts tests: a registration form as a browser sends it, and the outbox."""

from __future__ import annotations

import re

from sqlalchemy import select

from course_portal.core.outbox import OutboxMessage
from course_portal.extensions import db as _db

#: a password that passes every rule
NEW_PASSWORD = "长城 long enough pass"

LINK = re.compile(r"https?://\S+")
#: CSRF tokens carry a timestamp, so two pages a second apart differ there
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"')


def registration(**overrides) -> dict:
    """The registration form filled in as a teacher would, with fields replaced by overrides."""
    data = {
        "email": "ouyang.nana@example.edu.cn",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        "family_name_zh": "欧阳",
        "given_name_zh": "娜娜",
        "family_name_latin": "Ouyang",
        "given_name_latin": "Nana",
        "name_ru": "Оуян Нана",
        "born_on": "1985-03-14",
        "partner_university_id": "",
        "department": "Institute of Foreign Languages",
        "position": "Associate professor of Russian",
        "academic_title": "associate_professor",
        "phone": "+86 138 0013 8000",
        "wechat_id": "nana_ouyang",
        "locale": "zh",
        "consent_processing": "y",
        "consent_transfer_abroad": "y",
    }
    data.update(overrides)
    return data


def outbox(kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    """Messages in the outbox, oldest first, optionally of one kind and to one address."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return list(_db.session.scalars(query))


def link_in(message: OutboxMessage, contains: str = "") -> str:
    """The first absolute link in a message's body (containing the given text)."""
    for link in LINK.findall(message.body_text):
        if contains in link:
            return link
    raise AssertionError(f"no link with {contains!r} in:\n{message.body_text}")


def path_of(link: str) -> str:
    """The path of an absolute link, to open it with the test client."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def sign_in(client, email: str, password: str, remember: bool = False, two_factor: bool = True,
            **kwargs):
    """Post the sign-in form; when it asks for a two-step code, type the current one too.

    two_factor=False stops at the code page. The account's last used time step is forgotten
    first, so the same user can sign in twice within one 30-second step.
    """
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, **kwargs)
    if two_factor and response.headers.get("Location", "").endswith("/login/code"):
        response = client.post("/login/code", data={"code": current_code(client, email)}, **kwargs)
    return response


def current_code(client, email: str, forget_last_step: bool = True) -> str:
    """The code the user's authenticator shows now, computed from their secret in the database."""
    import pyotp
    from sqlalchemy import update

    from course_portal.accounts.models import User

    with client.application.app_context():
        user = _db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if forget_last_step:
            _db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
            _db.session.commit()
        return pyotp.TOTP(user.totp_secret).now()


def text(response) -> str:
    """A response's body as text."""
    return response.get_data(as_text=True)


def without_tokens(page: str) -> str:
    """A page with its CSRF token values blanked, to compare two answers."""
    return CSRF_VALUE.sub(r'\1"', page)
