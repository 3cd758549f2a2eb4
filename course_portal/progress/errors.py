"""The domain error of progress: a rule said no, with messages for the person and the form."""

from __future__ import annotations


class ProgressError(Exception):
    """A rule said no. errors maps a form field or grid cell (None: the whole form) to messages.

    Grid cells are named "h-<application id>-<module id>" (attended hours),
    "r-<application id>-<module id>" (result), "f-<application id>" (final result) and
    "s-<application id>" (final score).
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

    def text(self) -> str:
        """Every message on one line, for the command line and logs."""
        return " ".join(str(m) for messages in self.errors.values() for m in messages)

    def __str__(self) -> str:
        return self.text()
