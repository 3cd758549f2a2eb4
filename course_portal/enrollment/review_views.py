"""Applications, the coordinators' side: the review queue, decisions and exports."""

from __future__ import annotations

from course_portal.enrollment.views import bp  # noqa: F401
