"""Timed steps: what must happen at a time happens by itself, once, wherever it runs.

A step is a function of a feature (enrol the intakes that started, close those that ended,
retry the outbox) with how often it is due. `run_due()` runs every step that is due; it is
called by a thread inside the app process on the embedded default (`make run` starts it with
STEPS=thread, core.scheduler), by `flask steps scheduler` in production, and by hand with
`flask steps run`. A step is claimed with one conditional UPDATE of its row in `timed_steps`
(a lease), so two app servers, a restart or a systemd timer firing at the same moment run it
once; a runner that dies holding the lease loses it after LEASE. Each step is idempotent as
well (its moves are compare-and-set), so a late or repeated run changes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.utils import import_string

from course_portal.core import clock
from course_portal.db import Base, execute_dml
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: how long a runner holds a step; one that dies mid-step frees it after this
LEASE = timedelta(minutes=10)
#: a step whose last good run is older than this many of its periods is overdue
OVERDUE_PERIODS = 3


class TimedStep(Base):
    """When a timed step last ran, and who holds it now."""

    __tablename__ = "timed_steps"

    #: the step's name, e.g. enrollment.enroll_started
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    #: the end of the last run that did not fail
    last_ok_at: Mapped[datetime | None]
    #: the claim of the runner doing it now; None when nobody is
    lease_until: Mapped[datetime | None]
    #: the last failure's type and message, empty after a good run
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: what the last good run did, as its function said (e.g. "enrolled 3")
    last_result: Mapped[str] = mapped_column(String(200), default="")


@dataclass(frozen=True)
class Step:
    """A step: its name, how often it is due, the function (import path) and what it does."""

    name: str
    every: timedelta
    function: str
    label: object

    def run(self) -> object:
        """Call the step's function; it commits its own work and returns what it did."""
        func: Callable[[], object] = import_string(self.function)
        return func()


#: every timed step of the portal, in the order a tick runs them
STEPS: tuple[Step, ...] = (
    # before the enrolment: on an intake's first day the seats not confirmed are released first
    Step("enrollment.release_unconfirmed", timedelta(minutes=15),
         "course_portal.enrollment.confirmation.release_expired",
         _l("Release the seats not confirmed by their last day; the waiting list moves up")),
    Step("enrollment.enroll_started", timedelta(minutes=5),
         "course_portal.enrollment.services.enroll_all_started",
         _l("Enrol the approved teachers of intakes that have started")),
    Step("progress.close_ended", timedelta(hours=1),
         "course_portal.progress.records.close_all_ended",
         _l("Close intakes some days after their last day (completed or not, by the rules)")),
    Step("reminders.send_due", timedelta(minutes=30),
         "course_portal.reminders.services.send_due",
         _l("Send the reminders that are due, at a waking hour of each reader")),
    Step("certificates.finish_pdfs", timedelta(minutes=5),
         "course_portal.certificates.pdfs.finish_pdfs",
         _l("Make the certificate PDFs that a stopped process left to make")),
    Step("enrollment.delete_expired_documents", timedelta(hours=6),
         "course_portal.enrollment.retention.delete_expired_documents",
         _l("Delete the documents kept long enough: of applications rejected, withdrawn or "
            "expired, and certified teachers' passport pages")),
    Step("privacy.erase_due", timedelta(hours=1),
         "course_portal.privacy.erasure.erase_due",
         _l("Erase the data of teachers whose request's waiting time is over")),
    Step("privacy.purge_exports", timedelta(hours=1),
         "course_portal.privacy.export.purge_expired",
         _l("Delete the copies of teachers' data whose link has expired")),
    Step("outbox.send_due", timedelta(minutes=1),
         "course_portal.core.outbox.send_due_step",
         _l("Send the emails that are due, with retries")),
)
STEPS_BY_NAME = {step.name: step for step in STEPS}


def _insert_if_missing(name: str) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(TimedStep).values(name=name, last_error="", last_result="")
                       .on_conflict_do_nothing(index_elements=["name"]))


def claim(step: Step, now: datetime, force: bool = False) -> bool:
    """Take the step's lease if it is due (or force) and nobody holds it; commits the claim."""
    _insert_if_missing(step.name)
    query = update(TimedStep).where(
        TimedStep.name == step.name,
        or_(TimedStep.lease_until.is_(None), TimedStep.lease_until < now),
    )
    if not force:
        query = query.where(or_(TimedStep.last_started_at.is_(None),
                                TimedStep.last_started_at <= now - step.every))
    result = execute_dml(query.values(lease_until=now + LEASE, last_started_at=now)
                         .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _finish(step: Step, *, error: str = "", result: str = "") -> None:
    finished = clock.now()
    values = {"lease_until": None, "last_finished_at": finished, "last_error": error[:2000]}
    if not error:
        values.update(last_ok_at=finished, last_result=result[:200])
    db.session.execute(update(TimedStep).where(TimedStep.name == step.name).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def run_step(step: Step, *, force: bool = False) -> bool:
    """Run one step if it is due and free; True when this call ran it."""
    if not claim(step, clock.now(), force=force):
        return False
    try:
        outcome = step.run()
    except Exception as exc:  # a failed step must not stop the others; it is retried when due
        db.session.rollback()
        log.exception("timed step %s failed", step.name)
        _finish(step, error=f"{type(exc).__name__}: {exc}")
        return True
    _finish(step, result="" if outcome is None else str(outcome))
    if db.session.info.pop("outbox_committed", False):
        # what the step queued (an enrolment's email) leaves now, not at the next send_due
        from course_portal.core.outbox import dispatch

        try:
            dispatch()
        except Exception:
            log.exception("could not start sending the outbox; messages stay queued")
    return True


def run_due(names: list[str] | None = None) -> list[str]:
    """Run every step that is due (or those named); the names of those this call ran."""
    ran = []
    for step in STEPS:
        if names is not None and step.name not in names:
            continue
        if run_step(step):
            ran.append(step.name)
    return ran


@dataclass(frozen=True)
class StepState:
    """A step and its row, for doctor, the dashboard and `flask steps status`."""

    step: Step
    row: TimedStep | None
    overdue: bool


def states() -> list[StepState]:
    """Every step with when it last ran and whether it is overdue."""
    rows = {row.name: row for row in db.session.scalars(select(TimedStep))}
    now = clock.now()
    found = []
    for step in STEPS:
        row = rows.get(step.name)
        last_ok = row.last_ok_at if row is not None else None
        overdue = last_ok is None or now - last_ok > step.every * OVERDUE_PERIODS
        found.append(StepState(step, row, overdue))
    return found


def overdue() -> list[StepState]:
    """The steps that have not run well for OVERDUE_PERIODS of their periods."""
    return [state for state in states() if state.overdue]


def runs_somewhere() -> bool:
    """True when this installation says where its steps run (a thread or a scheduler)."""
    return current_app.config["STEPS"] in ("thread", "scheduler")
