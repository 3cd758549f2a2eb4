"""Setups of the hostile-input registry: accounts, two-step sign-in, liaisons, the catalog.

For each form: `<form>_setup(role)` creates fresh rows and returns the Env, `<form>_baseline(env)`
a valid filling, `<form>_stored(env, field)` reads back what was saved, `<form>_shown(env)` the
path of a page that shows it.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from course_portal.core.clock import portal_today
from course_portal.extensions import db
from tests import factories
from tests.hostile.conftest import make_role
from tests.hostile.spec import LINE, Env, commit, new_code, unique

# --- accounts ---------------------------------------------------------------------------------

def registration_baseline(env: Env) -> dict:
    from course_portal.catalog.models import PartnerUniversity

    # a university from the list when there is one: an application needs it
    partner = db.session.scalar(select(PartnerUniversity.id).order_by(PartnerUniversity.id))
    return {
        "email": env.rows.get("email", ""), "password": "长城 long enough pass",
        "password_confirm": "长城 long enough pass", "family_name_zh": "欧阳",
        "given_name_zh": "娜娜", "family_name_latin": "Ouyang", "given_name_latin": "Nana",
        "name_ru": "Оуян Нана", "born_on": "1985-03-14",
        "partner_university_id": str(partner) if partner else "",
        "department": "Institute of Foreign Languages", "position": "Associate professor",
        "academic_title": "associate_professor", "phone": "+86 138 0013 8000",
        "wechat_id": "nana_ouyang", "locale": "en",
        "consent_processing": "y", "consent_transfer_abroad": "y",
    }


PROFILE_FIELDS = {
    "family_name_zh": LINE, "given_name_zh": LINE, "family_name_latin": LINE,
    "given_name_latin": LINE, "name_ru": LINE, "department": LINE, "position": LINE,
    "phone": LINE, "wechat_id": LINE, "snils": LINE,
}


def registered(env: Env, name: str):
    from course_portal.accounts.models import User

    user = db.session.scalar(select(User).where(User.email == env.rows["email"]))
    if user is None:
        return None
    db.session.refresh(user)
    return getattr(user.profile, name)


def teacher_profile_stored(env: Env, name: str):
    db.session.expire_all()
    return getattr(env.user.profile, name)


def teacher_profile_baseline(env: Env) -> dict:
    data = registration_baseline(env)
    for name in ("email", "password", "password_confirm"):
        data.pop(name)
    return data


def staff_stored(env: Env, name: str):
    db.session.expire_all()
    return env.user.display_name


def reset_setup(role):
    from course_portal.accounts import services
    from course_portal.core.outbox import OutboxMessage

    user = commit(factories.make_teacher())
    services.request_password_reset(user.email)
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == user.email).order_by(OutboxMessage.id.desc())).first()
    path = re.search(r"https?://[^/\s]+(/\S+)", message.body_text).group(1)
    return Env(url=path, user=None)


def code_setup(role):
    from course_portal.accounts import session as sessions

    staff = commit(factories.make_user(role="coordinator"))
    pending = {"user": staff.id, "token": staff.session_token, "until": sessions.now() + 300,
               "next": "", "remember": False}
    return Env(url="/login/code", user=None, session={sessions.PENDING: pending})


def two_factor_setup_setup(role):
    return Env(url="/two-factor/setup",
               user=commit(factories.make_user(role=role, two_factor=False)))


def liaison_setup(role):
    coordinator = make_role(role)
    partner = commit(factories.make_partner())
    return Env(url="/partner/manage", user=coordinator,
               rows={"partner": partner, "email": unique("liaison") + "@example.edu.cn"})


def liaison_baseline(env: Env) -> dict:
    return {"partner": str(env.rows["partner"].id), "email": env.rows["email"],
            "display_name": "Li Wei", "locale": "zh"}


def liaison_stored(env: Env, name: str):
    from course_portal.accounts.models import User

    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == env.rows["email"]))
    return getattr(user, name) if user is not None else None


def liaison_home_setup(role):
    return Env(url="/partner/", user=commit(factories.make_user(role="partner_liaison")))


# --- catalog ----------------------------------------------------------------------------------

def new_institute():
    from course_portal.catalog.models import Institute

    institute = Institute(name_en=unique("Hostile institute "), name_zh="学院", name_ru="Институт")
    db.session.add(institute)
    db.session.flush()
    return institute


def program_baseline(env: Env) -> dict:
    return {
        "code": env.rows["code"], "institute_id": str(env.rows["institute_id"]),
        "title_en": "Investment Ecosystem", "title_zh": "投资生态系统",
        "title_ru": "Инвестиционная экосистема", "description_en": "Plain text.",
        "description_zh": "", "description_ru": "", "mode": "online", "duration_months": "3",
        "is_published": "y",
    }


def program_new_setup(role):
    user = make_role(role)
    institute = commit(new_institute())
    code = new_code()
    return Env(url="/manage/programs/new", user=user,
               rows={"code": code, "institute_id": institute.id})


def program_edit_setup(role):
    user = make_role(role)
    program = factories.make_program(code=new_code())
    commit(program)
    return Env(url=f"/manage/programs/{program.id}", user=user,
               rows={"code": program.code, "institute_id": program.institute_id,
                     "program": program})


def program_stored(env: Env, name: str):
    from course_portal.catalog.models import Program

    db.session.expire_all()
    program = db.session.scalar(select(Program).where(Program.code == env.rows["code"]))
    return getattr(program, name) if program is not None else None


def program_shown(env: Env) -> str:
    return f"/programs/{env.rows['code']}"


def modules_setup(role):
    user = make_role(role)
    program = commit(factories.make_program(code=new_code(), hours=(8,)))
    module = program.modules[0]
    return Env(url=f"/manage/programs/{program.id}/modules", user=user,
               rows={"code": program.code, "program": program, "module_id": module.id})


def modules_baseline(env: Env) -> dict:
    return {"modules-0-id": str(env.rows["module_id"]), "modules-0-position": "1",
            "modules-0-title_en": "Module one", "modules-0-title_zh": "模块",
            "modules-0-title_ru": "Модуль", "modules-0-hours": "8"}


def module_stored(env: Env, name: str):
    from course_portal.catalog.models import Module

    db.session.expire_all()
    module = db.session.get(Module, env.rows["module_id"])
    return getattr(module, name.removeprefix("modules-0-"))


def intake_baseline(env: Env) -> dict:
    today = portal_today()
    return {
        "title": env.rows["title"], "starts_on": (today + timedelta(days=30)).isoformat(),
        "ends_on": (today + timedelta(days=120)).isoformat(),
        "applications_open_on": (today - timedelta(days=1)).isoformat(),
        "applications_close_on": (today + timedelta(days=20)).isoformat(),
        "capacity": "20", "is_open": "y",
    }


def intake_new_setup(role):
    user = make_role(role)
    program = commit(factories.make_program(code=new_code()))
    return Env(url=f"/manage/programs/{program.id}/intakes/new", user=user,
               rows={"program": program, "title": unique("Autumn ")})


def intake_edit_setup(role):
    user = make_role(role)
    program = factories.make_program(code=new_code())
    intake = commit(factories.make_intake(program))
    return Env(url=f"/manage/programs/{program.id}/intakes/{intake.id}", user=user,
               rows={"program": program, "intake": intake, "title": intake.title})


def intake_stored(env: Env, name: str):
    from course_portal.catalog.models import Intake

    db.session.expire_all()
    intakes = db.session.scalars(select(Intake).where(
        Intake.program_id == env.rows["program"].id).order_by(Intake.id)).all()
    return getattr(intakes[-1], name) if intakes else None


def intakes_shown(env: Env) -> str:
    return f"/manage/programs/{env.rows['program'].id}/intakes"
