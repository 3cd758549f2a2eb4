"""A small world for the partner tests: two universities, their teachers, a liaison of each."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp

from course_portal.accounts.models import Role, User
from course_portal.certificates import services as certificate_services
from course_portal.db import utcnow
from course_portal.enrollment.models import ApplicationEvent
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake


def two_step_ready(user: User) -> User:
    """Give a staff user a confirmed authenticator, so that their pages are open to them."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = utcnow()
    return user


def make_liaison(partner, email: str | None = None, **fields) -> User:
    """A confirmed, enabled liaison of the partner university with two-step sign-in set up."""
    partner_id = partner.id
    user = factories.make_user(role=Role.TEACHER, email=email, profile=False, **fields)
    # make_user has no partner_university_id of its own; the CHECK wants it with the role
    user.partner_university_id = partner_id
    user.role = Role.PARTNER_LIAISON
    user.display_name = "Liaison"
    two_step_ready(user)
    db.session.flush()
    return user


def make_staff(role: str = "coordinator") -> User:
    """A coordinator or admin with two-step sign-in set up."""
    return two_step_ready(factories.make_user(role=role))


def sign_in(client, user: User) -> User:
    """Put the user's session on the test client, as after a full sign-in with the code."""
    db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return user


@dataclass
class World:
    """Datong's two teachers (one completed with a certificate, one submitted), one teacher of
    Tianshui with a certificate too, a liaison of each university, and a coordinator."""

    datong: object
    tianshui: object
    intake: object
    upcoming: object
    completed: object
    submitted: object
    other: object
    certificate: object
    other_certificate: object
    liaison: User
    other_liaison: User
    coordinator: User


def make_world() -> World:
    """The world, committed."""
    datong = factories.make_partner(name_en="Datong University", name_zh="山西大同大学")
    tianshui = factories.make_partner(name_en="Tianshui Normal University", name_zh="天水师范学院")
    intake = make_finished_intake()
    upcoming = factories.make_intake(factories.make_program(code="IS"), title="Autumn 2026")
    coordinator = make_staff("coordinator")
    completed = make_completed(intake, partner=datong, family_name_zh="欧阳", given_name_zh="娜娜",
                               family_name_latin="Ouyang", given_name_latin="Nana",
                               email="ouyang.nana@example.edu.cn", phone="+86 130 0000 0105",
                               wechat_id="ouyang_wechat", department="School of Economics")
    submitted = factories.make_application(
        teacher=factories.make_teacher(partner=datong, family_name_zh="李", given_name_zh="伟",
                                       family_name_latin="Li", given_name_latin="Wei",
                                       email="li.wei@example.edu.cn"),
        intake=upcoming, status="submitted")
    for before, after in ((None, "submitted"), ("submitted", "approved"), ("approved", "enrolled")):
        db.session.add(ApplicationEvent(application=completed, from_status=before,
                                        to_status=after, actor_id=coordinator.id))
    other = make_completed(intake, partner=tianshui, family_name_zh="王", given_name_zh="芳",
                           family_name_latin="Wang", given_name_latin="Fang",
                           email="wang.fang@example.edu.cn")
    certificate = certificate_services.issue_certificate(completed, coordinator)
    other_certificate = certificate_services.issue_certificate(other, coordinator)
    liaison = make_liaison(datong, email="liaison@datong.example.edu.cn")
    other_liaison = make_liaison(tianshui, email="liaison@tianshui.example.edu.cn")
    db.session.commit()
    return World(datong, tianshui, intake, upcoming, completed, submitted, other, certificate,
                 other_certificate, liaison, other_liaison, coordinator)
