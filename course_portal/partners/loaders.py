"""Loaders that scope every object to the signed-in liaison's partner university (404 if not)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.catalog.models import PartnerUniversity
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.enrollment.models import Application
from course_portal.extensions import db


def liaison_partner(viewer: User) -> PartnerUniversity:
    """The partner university the liaison reports for; 403 for anyone without one."""
    partner_id = getattr(viewer, "partner_university_id", None)
    if viewer.role != Role.PARTNER_LIAISON or partner_id is None:
        abort(403)
    partner = db.session.get(PartnerUniversity, partner_id)
    if partner is None:
        abort(403)
    return partner


def get_teacher_or_404(teacher_id: int, viewer: User) -> User:
    """A teacher of the liaison's university, with the profile; 404 for every other account."""
    partner = liaison_partner(viewer)
    teacher = db.session.scalar(
        select(User).join(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(User.id == teacher_id, User.role == Role.TEACHER,
               TeacherProfile.partner_university_id == partner.id)
        .options(contains_eager(User.profile))
    )
    if teacher is None:
        abort(404)
    return teacher


def get_certificate_or_404(certificate_id: int, viewer: User) -> Certificate:
    """A valid certificate of a teacher of the liaison's university; 404 otherwise.

    Revoked and replaced certificates stay listed with their status, but their PDFs are not
    handed out: a liaison passes certificates on, and only a valid one should travel.
    """
    partner = liaison_partner(viewer)
    certificate = db.session.scalar(
        select(Certificate)
        .join(Application, Application.id == Certificate.application_id)
        .join(TeacherProfile, TeacherProfile.user_id == Application.teacher_id)
        .where(Certificate.id == certificate_id,
               Certificate.status == CertificateStatus.ISSUED,
               TeacherProfile.partner_university_id == partner.id)
        .options(selectinload(Certificate.application))
    )
    if certificate is None:
        abort(404)
    return certificate
