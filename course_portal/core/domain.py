"""The error a service raises when one of its rules says no, carrying messages for the form."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. errors maps a form field (None for the whole form) to its messages.

    Messages stay lazy: turning them into text needs the reader's locale, which outside a
    request (the CLI, a job, a thread) only force_locale() provides.
    """

    def __init__(self, message=None, field: str | None = None, errors: dict | None = None):
        self.errors: dict[str | None, list] = {k: list(v) for k, v in (errors or {}).items()}
        if message is not None:
            self.errors.setdefault(field, []).append(message)
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
