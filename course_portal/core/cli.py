"""Commands for the outbox."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from course_portal.core.outbox import OutboxMessage, send_pending
from course_portal.extensions import db

outbox_cli = AppGroup("outbox", help="The email outbox.")


@outbox_cli.command("send")
def send_command() -> None:
    """Send every message that is due; exits 1 when some could not be sent."""
    total = {"sent": 0, "failed": 0, "kept": 0}
    while True:
        counts = send_pending()
        for key in total:
            total[key] += counts[key]
        if counts["sent"] == 0 or counts["failed"] or counts["kept"]:
            break
    click.echo(f"sent {total['sent']}, failed {total['failed']}, kept {total['kept']}")
    if total["kept"]:
        click.echo("COURSE_PORTAL_MAIL_SERVER is not set: messages are kept until it is.")
    if total["failed"]:
        # a timer or cron job running this shows the failure; `flask outbox status` tells more
        click.echo("Some messages were not sent; see the log. They are retried unless refused "
                   "for good.", err=True)
        raise SystemExit(1)


@outbox_cli.command("status")
def status_command() -> None:
    """Count pending, sent and failed messages."""
    pending = db.session.scalar(
        select(func.count()).where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    )
    sent = db.session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_not(None)))
    failed = db.session.scalar(select(func.count()).where(OutboxMessage.failed_at.is_not(None)))
    click.echo(f"pending {pending}, sent {sent}, failed {failed}")
