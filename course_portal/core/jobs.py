"""Background jobs: RQ on Redis when a Redis URL is set, run in place otherwise."""

from __future__ import annotations

import gc
import logging

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.utils import import_string

log = logging.getLogger(__name__)

QUEUE_NAME = "course_portal"

jobs_cli = AppGroup("jobs", help="Background jobs.")


def redis_connection():
    """A Redis client for the configured URL."""
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"])


def enqueue(func_path: str, *args, **kwargs):
    """Queue func_path(*args) on RQ, or call it now when no Redis is configured."""
    if not current_app.config["REDIS_URL"]:
        return import_string(func_path)(*args, **kwargs)
    from rq import Queue

    queue = Queue(QUEUE_NAME, connection=redis_connection())
    return queue.enqueue(func_path, *args, **kwargs)


#: seconds the worker's command listener waits for a message before it looks again whether
#: it should stop; RQ's own 60 made a stopping worker hang for up to a minute (see below)
LISTENER_WAKE_SECONDS = 1


def worker_class():
    """RQ's Worker, with a command listener that notices within a second that it should stop.

    RQ 3 listens for its commands (stop a job, shut down) in a thread that waits 60 s for a
    message, counting on the reply to its UNSUBSCRIBE to wake it when the worker stops. With
    redis-py 8 the thread can read that reply before the stop flag is set, and then waits out
    the 60 s while the worker joins it: a burst worker, or one stopped for a deploy, hung for
    a minute before exiting (one burst run in five in tests/certificates/test_batch_killed.py;
    tests/core/test_faults.py forces the race).
    Waking every second costs a poll() a second and no Redis command. subscribe() is RQ
    3.0's own with that one number changed.
    """
    from rq import Worker

    class PortalWorker(Worker):
        def subscribe(self):
            """Subscribe to this worker's channel, the listener waking every second."""
            self.log.info("Worker %s: subscribing to channel %s", self.name,
                          self.pubsub_channel_name)
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            # rq declares pubsub_thread as None in Worker.__init__ and assigns it the same way
            self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
                sleep_time=LISTENER_WAKE_SECONDS, daemon=True,
                exception_handler=self._pubsub_exception_handler)

    return PortalWorker


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker inside the application, so jobs see its configuration and database."""
    from rq import Queue

    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("COURSE_PORTAL_REDIS_URL is not set; jobs run in place.")
    from course_portal.certificates.pdfs import warm_up

    # RQ forks a work horse per job: the PDF engine, the fonts' coverage and what a first
    # render loads, made here once, are inherited by every horse instead of being made again
    # by each batch; and, as
    # gunicorn's master does, what start-up loaded is frozen out of the garbage collector's
    # walks (they cost a certificate batch about a fifth of its time)
    warm_up()
    gc.collect()
    gc.freeze()
    connection = redis_connection()
    worker = worker_class()([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(burst=burst, with_scheduler=False)
