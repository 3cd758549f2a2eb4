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

A hit costs one query, the generation, read on a connection of the page cache's own in
autocommit mode. A signed-in reader's kept page is served before the user is loaded
(serve_kept_page): the page was rendered for that very session at the same generation, so
the account cannot have changed since. Staff sessions near their time limits, anonymous
readers and visitors known only by a remember-me cookie take the long way, through the
sign-in hooks and the view's own decorators.
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
from sqlalchemy import BigInteger, Engine, Integer, create_engine, event
from sqlalchemy.exc import DBAPIError
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
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
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
    """The database's generation (0 before the first write), as the request's session sees it."""
    return db.session.connection().exec_driver_sql(_READ_GENERATION).scalar() or 0


def committed_generation() -> int:
    """The generation committed now, read on a connection of the page cache's own.

    That connection is in autocommit mode and is not pinged on checkout: a kept page costs one
    round trip, no transaction to begin and roll back, and the request's session never takes
    a connection. When the database went away since the last read (a restart, a failover),
    the read fails on a dead connection, the pool drops every connection older than that,
    and the read is tried once more on a new one.
    """
    engine = _reader_engine()
    for attempt in (1, 2):
        try:
            with engine.connect() as connection:
                return connection.exec_driver_sql(_READ_GENERATION).scalar() or 0
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def _session_in_transaction() -> bool:
    return db.session.registry.has() and db.session().in_transaction()


_reader_lock = threading.Lock()


def _reader_engine() -> Engine:
    """The app's engine for generation reads, made on first use (after gunicorn has forked)
    and disposed with the app's own engine."""
    engine = current_app.extensions.get("page_cache_reader")
    if engine is not None:
        return engine
    with _reader_lock:
        engine = current_app.extensions.get("page_cache_reader")
        if engine is None:
            main = db.engine
            if main.url.get_backend_name() == "sqlite" and main.url.database in (
                    None, "", ":memory:"):
                engine = main  # an in-memory database exists only on its own connections
            else:
                options = {**current_app.config["SQLALCHEMY_ENGINE_OPTIONS"],
                           "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT"}
                engine = create_engine(main.url, **options)
                event.listen(main, "engine_disposed", lambda _main: engine.dispose())
            current_app.extensions["page_cache_reader"] = engine
    return engine


# --- the store -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A kept page: its body cut where the CSRF token stood, so a hit joins in the reader's."""

    generation: int
    stored_at: float
    parts: tuple[bytes, ...]
    #: rendered for a staff member, whose session has time limits
    staff: bool = False

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


def _keeping() -> bool:
    """Pages are kept and served for plain GETs with no flashed message waiting."""
    return bool(current_app.config["PAGE_CACHE_SECONDS"] and request.method == "GET"
                and not session.get("_flashes"))


def _session_reader() -> str:
    """Who the session says is signed in ("id:token", as Flask-Login keeps it), "" for nobody.

    A visitor with only a remember-me cookie is "" here, and is never served early: only
    Flask-Login can tell who that is.
    """
    return str(session.get("_user_id") or "")


def _key(reader: str) -> tuple:
    """What a kept page is told apart by: the address, the reader, what picks the language,
    and the portal's day. Built from the request alone, so a hit never loads the user: a
    signed-in reader's language comes from their account, which is as it was when the page
    was kept (any change to it is a write, and a write makes the page stale)."""
    from course_portal.core.clock import portal_today

    languages = current_app.config["LANGUAGES"]
    return (request.full_path, reader, session.get("locale") or "",
            request.accept_languages.best_match(languages) or "", portal_today().isoformat())


def _token_in_page() -> str | None:
    return g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


def _fresh_entry(key: tuple) -> Entry | None:
    """The kept page for key if it was rendered at the committed generation, not too long ago."""
    entry = store().get(key)
    if entry is None or time.monotonic() - entry.stored_at >= current_app.config[
            "PAGE_CACHE_SECONDS"]:
        return None
    return entry if entry.generation == _request_generation() else None


def _request_generation() -> int:
    """The generation for this request, read once: on the session's connection when it has
    one already (no second connection for the request), else on its own."""
    if "page_generation" not in g:
        g.page_generation = (current_generation() if _session_in_transaction()
                             else committed_generation())
    return g.page_generation


def _hit(entry: Entry):
    store().hits += 1
    # only the body is kept: the headers come from after_request, as for a rendered page
    return current_app.response_class(entry.body(generate_csrf), mimetype="text/html")


def _staff_clock_allows(entry: Entry) -> bool:
    """A page kept for staff is served early only while check_staff_session has nothing to do."""
    from course_portal.accounts.session import staff_clock_is_quiet

    return not entry.staff or staff_clock_is_quiet()


def serve_kept_page():
    """before_request: a signed-in reader's kept page, before the user is even loaded.

    The page was rendered for this very session ("id:token") at the committed generation, so
    the account is as it was then: the token still matches, the role still opens the page,
    the language is the same. Loading the user and checking again would only repeat what
    the kept page already proves; a staff session near its limits goes the long way, where
    check_staff_session handles it. Anonymous readers are served by the view's wrapper, after
    the view's rate limit (the verification page has one); a signed-in reader served here
    already saw this page, so a repeat view reveals nothing a limit would protect.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, KEPT, False) or not _keeping():
        return None
    reader = _session_reader()
    if not reader:
        return None
    entry = _fresh_entry(_key(reader))
    if entry is None or not _staff_clock_allows(entry):
        return None
    return _hit(entry)


#: the attribute that marks a view whose page is kept (functools.wraps carries it outwards)
KEPT = "keeps_its_page"


def cached_page(view: Callable) -> Callable:
    """Serve the view's page from memory while the database has not changed (see the module)."""

    @wraps(view)
    def serve(*args, **kwargs):
        if not _keeping():
            return view(*args, **kwargs)
        reader = current_user.get_id() if current_user.is_authenticated else ""
        if _session_reader() != reader:
            return view(*args, **kwargs)  # a sign-in that no longer holds: not worth keeping
        key = _key(reader)
        entry = _fresh_entry(key)
        if entry is not None:
            return _hit(entry)
        generation = _request_generation()  # read before rendering: never newer than the page
        store().misses += 1
        response = current_app.make_response(view(*args, **kwargs))
        if (response.status_code == 200 and response.mimetype == "text/html"
                and not response.direct_passthrough and not session.get("_flashes")):
            body = response.get_data()
            token = _token_in_page()
            parts = tuple(body.split(token.encode("ascii"))) if token else (body,)
            store().put(key, Entry(
                generation=generation,
                stored_at=time.monotonic(),
                parts=parts,
                staff=bool(reader) and current_user.needs_two_factor,
            ))
        return response

    setattr(serve, KEPT, True)
    return serve


def init_app(app) -> None:
    """Give the app its store, serve kept pages early, and watch sessions for writes.

    Call after the limiter's init_app and before the sign-in hooks: before_request functions
    run in the order they were added, and a kept page is served after the rate limits and
    before the user is loaded.
    """
    app.extensions["page_cache"] = PageStore(app.config["PAGE_CACHE_MAX_BYTES"])
    app.before_request(serve_kept_page)
    listen()
