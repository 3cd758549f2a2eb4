"""Rendered pages kept in the process until anything in the database changes.

The busiest pages (the catalog, a program, verification, a teacher's applications and
progress, the review queue, the roster, the dashboard) are read far more often than what
they show changes. A view marked @cached_page is rendered once per address with its query,
reader (the signed-in session, or anonymous), language and portal day, and served from this
process's memory while nothing in the database has changed and for at most
PAGE_CACHE_SECONDS.

"Nothing has changed" is one number: every transaction that writes a row bumps the
generation counter in the same transaction (before_commit), so a commit and its new
generation become visible together, on every app server sharing the database. A kept page
rendered at an older generation is never served.

What differs on every request is never kept: the CSRF token is taken out of the stored page
and the reader's own put back on each hit, a page with a flashed message waiting is rendered
afresh, and only a plain 200 HTML page is kept. A cached view must not write anything on GET.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import BigInteger, Integer, event
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import TextClause

from course_portal.db import Base
from course_portal.extensions import db

#: session key of a change seen by this transaction
_CHANGED = "pagecache_changed"


class CacheGeneration(Base):
    """One row: bumped by every transaction that writes, so kept pages know they are stale."""

    __tablename__ = "cache_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: how many writing transactions have committed (it only grows)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# --- noticing writes ------------------------------------------------------------------------


def _flushed(session: Session, _context) -> None:
    session.info[_CHANGED] = True


def _executed(state) -> None:
    """An INSERT, UPDATE or DELETE through the session (bulk statements skip the flush)."""
    statement = state.statement
    if state.is_select:
        return
    if isinstance(statement, TextClause) and str(statement).lstrip()[:6].upper() in (
            "SELECT", "PRAGMA"):
        return
    state.session.info[_CHANGED] = True


def _bump_before_commit(session: Session) -> None:
    """Bump the generation in the transaction that wrote, as its last statement."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # pending changes are flushed after this hook: see them now
    if not session.info.get(_CHANGED):
        return
    session.execute(_bump_statement(session))
    session.info[_CHANGED] = False


def _bump_statement(session: Session):
    """INSERT … ON CONFLICT DO UPDATE: works whether or not the row exists yet, on both
    databases, and never fails the transaction it rides in."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(CacheGeneration).values(id=1, value=1)
    return statement.on_conflict_do_update(
        index_elements=[CacheGeneration.id],
        set_={"value": CacheGeneration.__table__.c.value + 1},
    )


def _forget(session: Session, *_args) -> None:
    session.info[_CHANGED] = False


def listen(session_class=Session) -> None:
    """Watch every session for writes; once per process."""
    if event.contains(session_class, "before_commit", _bump_before_commit):
        return
    event.listen(session_class, "after_flush", _flushed)
    event.listen(session_class, "do_orm_execute", _executed)
    event.listen(session_class, "before_commit", _bump_before_commit)
    event.listen(session_class, "after_rollback", _forget)


#: the read on every kept page's request, as plain SQL: compiling the ORM statement each time
#: cost more than the query itself
_READ_GENERATION = "SELECT value FROM cache_generation WHERE id = 1"


def current_generation() -> int:
    """The database's generation (0 before the first write)."""
    return db.session.connection().exec_driver_sql(_READ_GENERATION).scalar() or 0


# --- the store -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A kept page: its body cut where the CSRF token stood, so a hit joins in the reader's."""

    generation: int
    stored_at: float
    parts: tuple[bytes, ...]

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts)

    def body(self, token: Callable[[], str]) -> bytes:
        if len(self.parts) == 1:
            return self.parts[0]
        return token().encode("ascii").join(self.parts)


class PageStore:
    """Kept pages up to a total size, the least recently used dropped first; one per app."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        if entry.size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old.size
            self._entries[key] = entry
            self.size += entry.size
            while self.size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.size -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)


def store() -> PageStore:
    """This app's store of kept pages."""
    return current_app.extensions["page_cache"]


def _key() -> tuple:
    from course_portal.catalog.services import portal_today
    from course_portal.core.i18n import current_language

    reader = current_user.get_id() if current_user.is_authenticated else ""
    return (request.full_path, reader, current_language(), portal_today().isoformat())


def _token_in_page() -> str | None:
    return g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


def cached_page(view: Callable) -> Callable:
    """Serve the view's page from memory while the database has not changed (see the module)."""

    @wraps(view)
    def serve(*args, **kwargs):
        seconds = current_app.config["PAGE_CACHE_SECONDS"]
        if not seconds or request.method != "GET" or session.get("_flashes"):
            return view(*args, **kwargs)
        generation = current_generation()
        pages, key, now = store(), _key(), time.monotonic()
        entry = pages.get(key)
        if entry is not None and entry.generation == generation and now - entry.stored_at < seconds:
            pages.hits += 1
            # only the body is kept: the headers come from after_request, as for a rendered page
            return current_app.response_class(entry.body(generate_csrf), mimetype="text/html")
        pages.misses += 1
        response = current_app.make_response(view(*args, **kwargs))
        if (response.status_code == 200 and response.mimetype == "text/html"
                and not response.direct_passthrough and not session.get("_flashes")):
            body = response.get_data()
            token = _token_in_page()
            parts = tuple(body.split(token.encode("ascii"))) if token else (body,)
            pages.put(key, Entry(
                generation=generation,
                stored_at=now,
                parts=parts,
            ))
        return response

    return serve


def init_app(app) -> None:
    """Give the app its store and watch sessions for writes."""
    app.extensions["page_cache"] = PageStore(app.config["PAGE_CACHE_MAX_BYTES"])
    listen()
