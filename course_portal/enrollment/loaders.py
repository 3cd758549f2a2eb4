"""Loaders that fetch an application or a document and check the viewer may see it (404 if not)."""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role, User
from course_portal.enrollment.models import Application, Document
from course_portal.extensions import db


def can_see(application: Application, viewer: User | None) -> bool:
    """True for the teacher who applied, and for coordinators and admins."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return application.teacher_id == viewer.id or viewer.has_role(Role.COORDINATOR)


def get_application_or_404(application_id: int, viewer: User | None, options=()) -> Application:
    """The application, if the viewer may see it; 404 otherwise (never 403: no existence leak)."""
    application = db.session.get(Application, application_id, options=list(options))
    if application is None or not can_see(application, viewer):
        abort(404)
    return application


def get_document_or_404(document_id: int, viewer: User | None) -> Document:
    """The document, if the viewer may see its application; 404 otherwise."""
    document = db.session.get(
        Document, document_id, options=[selectinload(Document.application)]
    )
    if document is None or not can_see(document.application, viewer):
        abort(404)
    return document
