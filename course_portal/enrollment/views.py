"""Applications, the teacher's side: apply with documents, my applications, withdraw."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("enrollment", __name__)

# the coordinators' review pages live on the same blueprint
from course_portal.enrollment import review_views  # noqa: E402,F401
