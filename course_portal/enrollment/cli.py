"""Commands for applications: flask enrollment enroll-started, flask enrollment promote."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from course_portal.catalog.models import Intake
from course_portal.enrollment import services
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
