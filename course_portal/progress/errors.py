"""The domain error of progress."""

from __future__ import annotations

from course_portal.core.domain import DomainError


class ProgressError(DomainError):
    """A progress rule said no; errors may name grid cells as well as form fields.

    Grid cells are named "h-<application id>-<module id>" (attended hours),
    "r-<application id>-<module id>" (result), "f-<application id>" (final result) and
    "s-<application id>" (final score).
    """
