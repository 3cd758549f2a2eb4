"""Commands for applications: enroll-started, promote, delete-expired-documents."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from course_portal.catalog.models import Intake
from course_portal.enrollment import retention, services
from course_portal.enrollment.models import Application
from course_portal.extensions import db

enrollment_cli = AppGroup("enrollment", help="Applications and enrollment.")


def _intake_name(intake: Intake) -> str:
    return f"{intake.program.code} {intake.title} (intake {intake.id})"


def _teacher(application: Application) -> str:
    return f"application {application.id} of {application.teacher.email}"


@enrollment_cli.command("enroll-started")
def enroll_started_command() -> None:
    """Enroll the approved teachers of every intake that has started (safe to run daily)."""
    done = [(intake, services.enroll_started(intake)) for intake in services.intakes_to_enroll()]
    db.session.commit()
    for intake, enrolled in done:
        click.echo(f"{_intake_name(intake)}, started {intake.starts_on.isoformat()}: "
                   f"enrolled {len(enrolled)}")
        for application in enrolled:
            click.echo(f"  {_teacher(application)}")
    total = sum(len(enrolled) for _, enrolled in done)
    if total:
        click.echo(f"enrolled {total} in all; their emails are in the outbox")
    else:
        click.echo("nothing to enroll: no approved application in an intake that has started")


@enrollment_cli.command("promote")
@click.option("--intake", "intake_id", type=int, required=True, help="The intake's id.")
def promote_command(intake_id: int) -> None:
    """Give the intake's free seats to its waiting list, first come first served."""
    intake = db.session.get(Intake, intake_id)
    if intake is None:
        raise click.ClickException(f"there is no intake with id {intake_id}")
    promoted = services.fill_free_seats(intake)
    db.session.commit()
    for application in promoted:
        click.echo(f"promoted {_teacher(application)}")
    waiting = len(services.waiting_list(intake))
    click.echo(f"{_intake_name(intake)}: promoted {len(promoted)}, "
               f"{intake.seats_left} seats left, {waiting} still on the waiting list")


@enrollment_cli.command("delete-expired-documents")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
def delete_expired_documents_command(dry_run: bool) -> None:
    """Delete the documents kept long enough (the timed step does this by itself)."""
    due = retention.due_documents() if dry_run else retention.delete_due()
    for document in due:
        click.echo(f"application {document.application_id}: {document.kind.value} "
                   f"(document {document.document_id}), {document.rule.value} since "
                   f"{document.since_day}, {document.months} months")
    if not due:
        click.echo("nothing to delete: no document has been kept longer than its period")
    elif dry_run:
        click.echo(f"would delete {len(due)}; nothing was deleted (--dry-run)")
    else:
        click.echo(f"deleted {len(due)}, each in the audit log")
