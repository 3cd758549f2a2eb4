"""The domain error of the catalog: a rule said no, with messages for the person and the form."""

from __future__ import annotations


class CatalogError(Exception):
    """A rule said no. errors maps a form field (None for the whole form) to its messages.

    Field names of list rows are "<list>.<key>.<field>": "modules.2.position" is the position
    of the third row given to save_modules, "quotas.7" the quota of partner university 7.
    """

    def __init__(self, message=None, field: str | None = None, errors: dict | None = None):
        self.errors: dict[str | None, list] = {k: list(v) for k, v in (errors or {}).items()}
        if message is not None:
            self.errors.setdefault(field, []).append(message)
        # lazy messages stay lazy: the reader's locale decides their text when shown
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
