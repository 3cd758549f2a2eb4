"""The shape of the hostile-input registry: a form's spec, what its setup makes, field kinds."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from course_portal.core.text import normalize_multiline, normalize_text
from course_portal.extensions import db

_counter = itertools.count(1)

#: a field's kind says how its value is normalised when stored, and whether it is shown again
LINE, MULTI, REASON = "line", "multi", "reason"
#: fields whose value a page does not show again as typed: secrets, hidden inputs, choices
PASSWORD, HIDDEN, CHOICE = "password", "hidden", "choice"
#: numbers, dates and roster cells: refused unless they parse
NUMBER, DATE, CELL = "number", "date", "cell"
#: the payload inside a CSV: as an uploaded file, or as the previewed text sent back
CSV_FILE, CSV_TEXT = "csv-file", "csv-text"


@dataclass
class Env:
    """What one test's setup made: the address, the user, and the rows behind them."""

    url: str
    user: object = None
    rows: dict = field(default_factory=dict)
    #: values put in the client's session before the post (a pending two-step sign-in)
    session: dict = field(default_factory=dict)


@dataclass
class FormSpec:
    """One form: endpoint, method, role, setup, valid data, text fields and where values go."""

    endpoint: str
    role: str | None
    setup: Callable[[str | None], Env]
    baseline: Callable[[Env], dict]
    #: field name → kind; names may use {placeholders} filled from env.rows
    fields: dict[str, str]
    method: str = "POST"
    #: the stored value of a field after an accepted post; None: the form stores no text
    stored: Callable[[Env, str], object] | None = None
    #: a page (path, as the form's user) that shows the stored values, to check escaping
    shown: Callable[[Env], str] | None = None
    #: fields sent with the same value as the field under test (a password and its repeat)
    twins: dict[str, str] = field(default_factory=dict)
    #: the id of the spec in test names, when one endpoint has several (teacher/staff profile)
    name: str = ""
    #: a file field per test: {name: (bytes, filename)}
    files: Callable[[Env], dict] | None = None
    #: True when a 200 is the form's answer (a preview), not a refusal
    previews: bool = False
    #: (module path, attribute, replacement) set for the test with monkeypatch
    patches: tuple = ()
    #: what the valid baseline answers: a redirect, or 200 for a page that is the answer
    #: (a wrong password on purpose, a preview, recovery codes)
    baseline_status: int = 302

    @property
    def id(self) -> str:
        return self.name or self.endpoint

    def field_name(self, env: Env, name: str) -> str:
        return name.format(**env.rows)


def unique(prefix: str = "x") -> str:
    """A name no other test of the run uses."""
    return f"{prefix}{next(_counter)}"


def new_code(prefix: str = "H") -> str:
    """A program code no other test of the run uses (codes are short: H1, H2, …)."""
    return f"{prefix}{next(_counter)}"


def stored_value(kind: str, typed: str) -> str:
    """What a field of this kind keeps of what was typed (its filters), without NULs."""
    if kind == MULTI:
        return normalize_multiline(typed)
    if kind == REASON:
        # certificates' reasons are one paragraph: line breaks become spaces
        value = normalize_multiline(typed)
        return " ".join(value.split("\n")).strip()
    return normalize_text(typed)


def commit(value):
    db.session.commit()
    return value
