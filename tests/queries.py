"""Counting what a page or a service sends to the database: the suite's one statement counter.

`with statements_sent() as statements:` (or the `count_queries` fixture, which is this) keeps
every statement sent inside the block, in order; an executemany counts once. select_only keeps
the SELECTs; with_parameters keeps (statement, parameters) pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from course_portal.extensions import db


@contextmanager
def statements_sent(engine=None, *, select_only: bool = False,
                    with_parameters: bool = False) -> Iterator[list]:
    """The statements sent through engine (the app's) while the block runs."""
    engine = engine if engine is not None else db.engine
    statements: list = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if select_only and not statement.lstrip().upper().startswith("SELECT"):
            return
        statements.append((statement, parameters) if with_parameters else statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", keep)
