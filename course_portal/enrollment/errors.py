"""The domain errors of enrollment: a rule said no, with messages for the person and the form."""

from __future__ import annotations


class EnrollmentError(Exception):
    """A rule said no. errors maps a form field (None for the whole form) to its messages."""

    def __init__(self, message=None, field: str | None = None, errors: dict | None = None):
        self.errors: dict[str | None, list] = {k: list(v) for k, v in (errors or {}).items()}
        if message is not None:
            self.errors.setdefault(field, []).append(message)
        # the messages stay lazy: turning them into text needs the reader's locale, which
        # outside a request (the CLI, a job, a thread) only force_locale() provides
        super().__init__(self.errors)

    @property
    def message(self):
        """The first message, for a flash or a log line."""
        for messages in self.errors.values():
            if messages:
                return messages[0]
        return ""

    @property
    def fields(self) -> list[str]:
        """The form fields the messages belong to (None, the whole form, left out)."""
        return [name for name in self.errors if name is not None]

    def text(self) -> str:
        """Every message on one line, for the command line and logs."""
        return " ".join(str(m) for messages in self.errors.values() for m in messages)

    def __str__(self) -> str:
        return self.text()


class TransitionRefused(EnrollmentError):
    """The status move is not allowed from here, or not by this person, or not yet."""


class StaleApplication(EnrollmentError):
    """Someone else changed the application between reading and deciding: reload and retry."""


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
