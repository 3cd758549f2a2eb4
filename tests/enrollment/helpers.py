"""Helpers for the enrollment tests: the outbox, the history, and errors as English text."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask_babel import force_locale
from sqlalchemy import func, select

from course_portal.catalog.models import Intake
from course_portal.core.outbox import OutboxMessage
from course_portal.enrollment.models import Application, ApplicationEvent
from course_portal.extensions import db


def outbox(to: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
    """Queued emails, oldest first, optionally to one address or of one kind."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def history(application: Application) -> list[ApplicationEvent]:
    """The application's history rows, oldest first."""
    return list(db.session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application.id)
        .order_by(ApplicationEvent.id)
    ))


def status_in_db(application: Application) -> str:
    """The status as stored, past the session's copy."""
    return db.session.scalar(select(Application.status).where(Application.id == application.id))


def seats_taken(intake: Intake) -> int:
    """The intake's seats_taken as stored."""
    return db.session.scalar(select(Intake.seats_taken).where(Intake.id == intake.id))


def count_status(intake: Intake, status: str) -> int:
    """How many of the intake's applications have the status."""
    return db.session.scalar(
        select(func.count()).select_from(Application)
        .where(Application.intake_id == intake.id, Application.status == status)
    )


def text_of(error) -> str:
    """An error's messages as English text (lazy strings need a locale outside a request)."""
    with force_locale("en"):
        return str(error)


def run_at_once(app, jobs: list[Callable]) -> list:
    """Run each job in its own thread, app context and session, released together by a barrier.

    A job receives a callable `start` to call once it has loaded what it needs (as a page
    would have); the thread commits after the job. Returns "ok" or the exception of each job.
    """
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def work(index: int, job: Callable) -> None:
        with app.app_context():
            try:
                job(lambda: barrier.wait(timeout=20))
                db.session.commit()
                outcomes[index] = "ok"
            except Exception as exc:  # noqa: BLE001 (every outcome is reported to the test)
                db.session.rollback()
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


def tally(outcomes) -> dict[str, int]:
    """How many threads ended "ok" and how many with each exception class."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        key = outcome if isinstance(outcome, str) else type(outcome).__name__
        counts[key] = counts.get(key, 0) + 1
    return counts
