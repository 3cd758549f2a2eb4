"""Loaders that fetch an intake for a page, or answer 404."""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import selectinload

from course_portal.catalog.models import Intake
from course_portal.extensions import db


def get_intake_or_404(intake_id: int, *, published_only: bool = False) -> Intake:
    """The intake with its programme; 404 when there is none, or, with published_only (what
    teachers may open), when its programme is not published."""
    intake = db.session.get(Intake, intake_id, options=[selectinload(Intake.program)])
    if intake is None or (published_only and not intake.program.is_published):
        abort(404)
    return intake
