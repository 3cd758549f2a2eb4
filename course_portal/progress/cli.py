"""Commands for progress: flask progress close-intake ID, flask progress close-ended."""

from __future__ import annotations

import click

from course_portal.catalog.models import Intake
from course_portal.extensions import db
from course_portal.progress import records
from course_portal.progress.errors import ProgressError
from course_portal.progress.views import bp


def _intake_name(intake: Intake) -> str:
    return f"{intake.program.code} {intake.title} (intake {intake.id})"


def _close(intake: Intake) -> None:
    try:
        outcome = records.close_intake(intake, actor=None)
    except ProgressError as error:
        db.session.rollback()
        raise click.ClickException(f"{_intake_name(intake)}: {error.text()}") from None
    db.session.commit()
    click.echo(f"{_intake_name(intake)}: {len(outcome.completed)} completed, "
               f"{len(outcome.not_completed)} not completed; their emails are in the outbox")
    for application_id, message in outcome.failed.items():
        click.echo(f"  application {application_id} left as it is: {message}")


@bp.cli.command("close-intake")
@click.argument("intake_id", type=int)
def close_intake_command(intake_id: int) -> None:
    """Close an intake that has ended: enrolled teachers complete or not, by the rules."""
    intake = db.session.get(Intake, intake_id)
    if intake is None:
        raise click.ClickException(f"there is no intake with id {intake_id}")
    _close(intake)


@bp.cli.command("close-ended")
def close_ended_command() -> None:
    """Close every intake that has ended and still has enrolled teachers (safe to run daily)."""
    intakes = records.intakes_to_close()
    if not intakes:
        click.echo("nothing to close: no ended intake has enrolled teachers")
    for intake in intakes:
        _close(intake)
