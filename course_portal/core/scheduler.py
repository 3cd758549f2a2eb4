"""Where the timed steps run: a thread inside the app process, or a scheduler process.

On the embedded default (`make run`, SQLite, no other service) nothing else would run them, so
`make run` sets STEPS=thread and create_app() starts one daemon thread that looks every
STEPS_TICK_SECONDS at what is due (core.steps.run_due). A thread rather than cron or a systemd
timer, because a fresh checkout has neither, and rather than a step run by requests, because an
intake starts at midnight whether or not anyone opens a page. In production the steps run in
their own process, `flask steps scheduler` (deploy/course-portal-scheduler.service); the
leases in core.steps make any number of threads, schedulers and timers safe together.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.local import LocalProxy

from course_portal.core import clock, steps
from course_portal.extensions import db

log = logging.getLogger(__name__)

steps_cli = AppGroup("steps", help="Timed steps: what happens by itself, and when it last ran.")

_started: set[int] = set()


def tick(app) -> list[str]:
    """One look at what is due, in the app's context; never raises."""
    with app.app_context():
        try:
            return steps.run_due()
        except Exception:  # the database is down, say: try again at the next tick
            log.exception("timed steps could not run; trying again at the next tick")
            return []
        finally:
            db.session.remove()


def _loop(app, stop: threading.Event) -> None:
    interval = float(app.config["STEPS_TICK_SECONDS"])
    while not stop.is_set():
        tick(app)
        stop.wait(interval)


def _reloader_parent(app) -> bool:
    # `flask run --debug` runs the app twice: the watcher and the server it restarts
    return bool(app.debug) and os.environ.get("WERKZEUG_RUN_MAIN") != "true" and bool(
        os.environ.get("FLASK_RUN_FROM_CLI"))


def start_thread(app) -> threading.Event | None:
    """Start the steps' thread when STEPS is "thread" (once per app); returns its stop event."""
    if app.config["STEPS"] != "thread" or id(app) in _started or _reloader_parent(app):
        return None
    _started.add(id(app))
    stop = threading.Event()
    thread = threading.Thread(target=_loop, args=(app, stop), name="timed-steps", daemon=True)
    thread.start()
    log.info("timed steps run in this process, every %ss", app.config["STEPS_TICK_SECONDS"])
    return stop


@steps_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the timed steps in this process until stopped (the production scheduler)."""
    # current_app is typed as the Flask app it stands for, not as its LocalProxy
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    click.echo(f"timed steps: looking every {app.config['STEPS_TICK_SECONDS']} s; Ctrl+C stops")
    stop = threading.Event()
    try:
        _loop(app, stop)
    except KeyboardInterrupt:
        stop.set()


@steps_cli.command("run")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Run even if not due yet (never while another runs).")
def run_command(names: tuple[str, ...], force: bool) -> None:
    """Run the steps that are due now (or the named ones)."""
    unknown = [name for name in names if name not in steps.STEPS_BY_NAME]
    if unknown:
        raise click.ClickException(f"no such step: {', '.join(unknown)}; see flask steps status")
    chosen = [steps.STEPS_BY_NAME[name] for name in names] if names else list(steps.STEPS)
    for step in chosen:
        if steps.run_step(step, force=force):
            row = db.session.get_one(steps.TimedStep, step.name)  # run_step made the row
            click.echo(f"{step.name}: {row.last_error or row.last_result or 'done'}")
        else:
            click.echo(f"{step.name}: not due, or running elsewhere")


@steps_cli.command("status")
def status_command() -> None:
    """Each step: how often, when it last ran well, and whether it is overdue; exit 1 if one is."""
    now = clock.now()
    late = False
    for state in steps.states():
        row = state.row
        last = row.last_ok_at.isoformat(timespec="seconds") if row and row.last_ok_at else "never"
        error = f"; last error: {row.last_error}" if row is not None and row.last_error else ""
        mark = "OVERDUE" if state.overdue else "ok"
        late = late or state.overdue
        click.echo(f"{mark:8} {state.step.name:28} every {state.step.every}  last good run {last}"
                   f"{error}")
    click.echo(f"now {now.isoformat(timespec='seconds')}; steps run: "
               f"{current_app.config['STEPS']}")
    if late:
        raise SystemExit(1)
