"""The domain errors of enrollment."""

from __future__ import annotations

from course_portal.core.domain import DomainError


class EnrollmentError(DomainError):
    """An enrollment rule said no."""


class TransitionRefused(EnrollmentError):
    """The status move is not allowed from here, or not by this person, or not yet."""


class StaleApplication(EnrollmentError):
    """Someone else changed the application between reading and deciding: reload and retry."""


class SeatsTaken(EnrollmentError):
    """A capacity or a quota would fall below the seats already taken."""


class NoSeatLeft(EnrollmentError):
    """The intake, or the teacher's partner university quota, has no free seat."""

    def __init__(self, message, quota: bool = False):
        #: True when the intake has seats but the partner university's quota is used up
        self.quota = quota
        super().__init__(message)


class DocumentRefused(EnrollmentError):
    """An upload is refused: too large, empty, or not a PDF, JPEG or PNG by its content."""

    def __init__(self, message):
        super().__init__(message, field="file")
