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


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker inside the application, so jobs see its configuration and database."""
    from rq import Queue, Worker

    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("COURSE_PORTAL_REDIS_URL is not set; jobs run in place.")
    from course_portal.certificates.pdf import warm_up

    # RQ forks a work horse per job: the PDF engine and the fonts' coverage built here, once,
    # are inherited by every horse instead of being built again by each batch; and, as
    # gunicorn's master does, what start-up loaded is frozen out of the garbage collector's
    # walks (they cost a certificate batch about a fifth of its time)
    warm_up()
    gc.collect()
    gc.freeze()
    connection = redis_connection()
    worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(burst=burst, with_scheduler=False)
