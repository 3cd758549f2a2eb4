"""flask doctor (is this machine ready?), flask demo-data (demo logins), flask backup and restore,
flask keys (secrets at rest)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import OperationalError, ProgrammingError

from course_portal.extensions import db
from course_portal.ops import demo, doctor


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the database, migrations, PDF libraries, fonts, secret key, mail, Redis, outbox."""
    checks = doctor.run_checks()
    width = max(len(check.name) for check in checks)
    for check in checks:
        click.echo(doctor.format_check(check, width))
    counts = {status: sum(c.status == status for c in checks)
              for status in (doctor.OK, doctor.WARN, doctor.FAIL)}
    click.echo(f"{counts['OK']} OK, {counts['WARN']} WARN, {counts['FAIL']} FAIL")
    if any(check.failed for check in checks):
        raise SystemExit(1)


def _describe(counter) -> str:
    """Counts by kind, as "5 partner universities, 2 programs", or "nothing"."""
    parts = [f"{count} {kind}" for kind, count in counter.items() if count]
    return ", ".join(parts) if parts else "nothing"


def _echo_logins() -> None:
    """The demo accounts in the database, with the password that opens them."""
    logins = demo.demo_logins(existing_only=True)
    if not logins:
        return
    width = max(len(email) for email, _ in logins)
    click.echo("Demo logins:")
    click.echo(f"  {'email':<{width}}  {'role':<15}  password")
    for email, role in logins:
        password = (demo.DEMO_PASSWORD if demo.demo_password_works(email)
                    else "(changed since demo-data created it)")
        click.echo(f"  {email:<{width}}  {role:<15}  {password}")
    for line in demo.demo_two_factor_help():
        click.echo(line)


@click.command("demo-data")
@click.option("--if-empty", is_flag=True,
              help="Load only when the database has no users at all (for make run).")
@click.option("--allow-production", is_flag=True,
              help="Load even when ENV is production (demo accounts have a published password).")
@with_appcontext
def demo_data_command(if_empty: bool, allow_production: bool) -> None:
    """Load demo partners, institutes, programs with open intakes, staff, teachers, applications."""
    if current_app.config["ENV"] == "production" and not allow_production:
        raise click.ClickException(
            "ENV is production: demo accounts have a published password. "
            "Use --allow-production if you really mean it."
        )
    try:
        if if_empty and demo.database_has_users():
            if demo.demo_logins(existing_only=True):
                click.echo("demo data already present")
            else:
                click.echo("the database already has users: demo data not loaded")
        else:
            summary = demo.load_demo_data()
            db.session.commit()
            click.echo(f"created: {_describe(summary.created)}")
            click.echo(f"updated to the demo values: {_describe(summary.updated)}")
            click.echo(f"already present: {_describe(summary.present)}")
            for line in summary.lines:
                click.echo(line)
            for note in summary.notes:
                click.echo(note)
        _echo_logins()
    except (OperationalError, ProgrammingError) as exc:  # no tables yet, or no database
        db.session.rollback()
        raise click.ClickException(
            f"the database is not ready ({type(exc).__name__}); run: flask db upgrade"
        ) from exc


@click.command("backup")
@click.option("-o", "--output", type=click.Path(file_okay=False), default=None,
              help="The folder to write the archive into (default: instance/backups).")
@with_appcontext
def backup_command(output: str | None) -> None:
    """Write the database and the uploaded documents into one timestamped archive."""
    from pathlib import Path

    from course_portal.ops import backup

    folder = Path(output) if output else Path(current_app.instance_path) / "backups"
    try:
        archive = backup.create_backup(folder, progress=click.echo)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written: {archive} ({archive.stat().st_size} bytes)")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True,
              help="Really replace the database and the uploads with the archive's.")
@click.option("--force", is_flag=True, help="Restore even into a database that has data.")
@with_appcontext
def restore_command(archive: str, yes: bool, force: bool) -> None:
    """Restore a `flask backup` archive: the database, then the uploaded documents.

    Stop the app servers and workers first. Into an empty database (after `createdb`, or
    `flask db upgrade`) it needs --yes; into one with data, --yes and --force.
    """
    from pathlib import Path

    from course_portal.ops import backup

    if not yes:
        raise click.ClickException(
            "restoring replaces the database and the uploaded documents with the archive's. "
            "Stop the app servers and workers, then run again with --yes.")
    try:
        report = backup.restore_backup(Path(archive), force=force, progress=click.echo)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(report.tables.values())
    click.echo(f"restored {rows} rows in {len(report.tables)} tables and {report.files} files "
               f"from the backup of {report.manifest['created_at']} "
               f"(schema {report.manifest['schema_revision']})")
    if report.previous_uploads:
        click.echo(f"the uploads folder it replaced is kept at {report.previous_uploads}")


keys_cli = AppGroup("keys", help="The keys that keep secrets encrypted at rest.")


@keys_cli.command("new")
def keys_new_command() -> None:
    """Print a new random key to add to ENCRYPTION_KEYS (nothing is changed here)."""
    from course_portal.core.encryption import new_key

    click.echo(new_key())


@keys_cli.command("status")
def keys_status_command() -> None:
    """Which key encrypts now, and how many stored secrets each key encrypted."""
    from course_portal.certificates import credentials
    from course_portal.core import encryption

    config = current_app.config
    click.echo(f"encrypts with: {encryption.current_key_id(config)} "
               f"(configured: {', '.join(encryption.configured_keys(config))})")
    for key_id, count in sorted(encryption.stored_key_ids().items()):
        click.echo(f"  {key_id}: {count} two-step secret(s)")
    files = [p for p in credentials._key_files(credentials.key_folder())
             if not p.name.endswith(credentials.PUBLIC_SUFFIX)]
    for path in files:
        sealed = encryption.key_id_of(path.read_text("ascii", "replace")) or "plain"
        click.echo(f"  {sealed}: credential key {path.name}")


@keys_cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True,
              help="Rows re-encrypted per transaction.")
def keys_rotate_command(batch_size: int) -> None:
    """Re-encrypt with the current key (ENCRYPTION_KEY_ID) what an earlier key encrypted.

    Add the new key to ENCRYPTION_KEYS, make it ENCRYPTION_KEY_ID, restart the app servers,
    run this, then remove the old key once `flask keys status` shows nothing left under it.
    """
    from course_portal.certificates import credentials
    from course_portal.core import encryption

    rows = encryption.rotate(batch_size)
    files = credentials.reencrypt_key_files()
    click.echo(f"re-encrypted {rows} two-step secret(s) and {files} credential key file(s) "
               f"with {encryption.current_key_id(current_app.config)}")
