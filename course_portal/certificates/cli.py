"""Commands: flask certificates issue, resume-batch, export-registry, pdf, make-dev-signing-key,
new-credential-key."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from course_portal.accounts.models import Role, User
from course_portal.catalog.models import Intake
from course_portal.certificates import frdo, jobs, pdfs, registry, services
from course_portal.certificates.models import Certificate
from course_portal.extensions import db

certificates_cli = AppGroup("certificates", help="Certificates: issue, export, PDFs, signing key.")


@certificates_cli.command("issue")
@click.option("--intake", "intake_id", type=int, required=True, help="The intake's id.")
@click.option("--as", "actor_email", default="",
              help="The coordinator recorded as who issued (in the history, not printed).")
def issue_command(intake_id: int, actor_email: str) -> None:
    """Issue the certificate of every eligible teacher of an intake who has none yet."""
    intake = db.session.get(Intake, intake_id)
    if intake is None:
        raise click.ClickException(f"there is no intake with id {intake_id}")
    actor_id = None
    if actor_email:
        actor = db.session.scalar(select(User).where(User.email == actor_email.lower()))
        if actor is None or not actor.has_role(Role.COORDINATOR):
            raise click.ClickException(f"{actor_email} is not a coordinator")
        actor_id = actor.id
    blocked = services.intake_refusals(intake)
    if blocked:
        raise click.ClickException(" ".join(str(message) for message in blocked))
    ids = [a.id for a in services.issuable(intake)]
    label = f"{intake.program.code} {intake.title}"
    with click.progressbar(length=len(ids), label=label, show_pos=True) as bar:
        outcome = jobs.issue_many(ids, actor_id, lambda *_: bar.update(1))
    for number in outcome["issued"]:
        click.echo(f"issued {number}")
    for problem in outcome["problems"]:
        click.echo(f"problem: {problem['message']}", err=True)
    click.echo(f"{len(outcome['issued'])} issued, {len(outcome['problems'])} with a problem")


@certificates_cli.command("export-registry")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The CSV file to write (.xlsx writes a workbook).")
@click.option("--program", "program_id", type=int, default=None, help="Only this program's id.")
def export_registry_command(output: str, program_id: int | None) -> None:
    """Write the registry: every certificate with its status, code and SHA-256."""
    certificates = registry.registry_certificates(program_id)
    path = Path(output)
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(registry.registry_xlsx(certificates))
    else:
        path.write_text(registry.registry_csv(certificates), encoding="utf-8", newline="")
    services.record_registry_export(None, path.suffix.lower().lstrip(".") or "csv", program_id)
    db.session.commit()
    click.echo(f"wrote {len(certificates)} certificates to {path}")


@certificates_cli.command("export-frdo")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The first day of issue, YYYY-MM-DD.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The last day of issue, YYYY-MM-DD.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The XLSX file to write.")
def export_frdo_command(start, end, output: str) -> None:
    """Write the certificates of a period as rows of the federal register's template (ДПО)."""
    start, end = start.date(), end.date()
    if end < start:
        raise click.ClickException("--to is before --from")
    certificates = frdo.frdo_certificates(start, end)
    Path(output).write_bytes(frdo.frdo_xlsx(certificates))
    frdo.record_export(None, start, end, len(certificates))
    db.session.commit()
    click.echo(f"wrote {len(certificates)} certificates to {output}")


@certificates_cli.command("pdf")
@click.argument("number")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def pdf_command(number: str, output: str) -> None:
    """Write the stored PDF of a certificate, byte for byte as issued."""
    certificate = db.session.scalar(
        select(Certificate).where(func.upper(Certificate.registry_number) == number.upper())
    )
    if certificate is None:
        raise click.ClickException(f"there is no certificate {number}")
    pdf = pdfs.pdf_bytes(certificate)
    if pdf is None:
        raise click.ClickException(f"the PDF of {certificate.registry_number} cannot be made "
                                   "yet; the log says why")
    Path(output).write_bytes(pdf)
    click.echo(f"{certificate.registry_number} ({certificate.status.value}) -> {output}, "
               f"sha256 {certificate.pdf_sha256}")


@certificates_cli.command("make-dev-signing-key")
@click.option("--dir", "folder", type=click.Path(file_okay=False), default=None,
              help="Where to write key.pem and cert.pem (default: instance/signing).")
@click.option("--force", is_flag=True, help="Replace an existing pair.")
def make_dev_signing_key_command(folder: str | None, force: bool) -> None:
    """Create a self-signed EC P-256 key and certificate for signing PDFs in development."""
    from course_portal.certificates.signing import make_dev_key_pair

    base = Path(folder or Path(current_app.instance_path) / "signing")
    key_path, cert_path = base / "key.pem", base / "cert.pem"
    if (key_path.exists() or cert_path.exists()) and not force:
        raise click.ClickException(f"{key_path} exists; use --force to replace it")
    make_dev_key_pair(key_path, cert_path, "SPbPU course portal (development)")
    click.echo(f"wrote {key_path} and {cert_path}; to sign, set")
    click.echo(f"  COURSE_PORTAL_SIGNING_KEY_PATH={key_path}")
    click.echo(f"  COURSE_PORTAL_SIGNING_CERT_PATH={cert_path}")


@certificates_cli.command("new-credential-key")
@click.option("--keep-earlier", is_flag=True,
              help="Keep the earlier keys' private halves (they sign nothing either way).")
def new_credential_key_command(keep_earlier: bool) -> None:
    """Make the Ed25519 key that signs digital credentials from now on (first key or rotation).

    Earlier keys stay published in /.well-known/did.json, so what they signed still verifies.
    """
    from course_portal.certificates import credentials

    earlier = credentials.keys()
    key = credentials.new_key(retire_earlier=not keep_earlier)
    click.echo(f"{key.kid} signs credentials from now on ({credentials.key_folder()})")
    if earlier:
        click.echo(f"earlier keys still verify: {', '.join(k.kid for k in earlier)}")
    click.echo(f"published as {credentials.issuer_did()}#{key.kid}")


@certificates_cli.command("resume-batch")
@click.argument("batch_id", type=int)
def resume_batch_command(batch_id: int) -> None:
    """Finish a bulk issuing whose worker died: issue, here and now, to those still without one."""
    from course_portal.certificates.models import IssueBatch

    batch = db.session.get(IssueBatch, batch_id)
    if batch is None:
        raise click.ClickException(f"there is no batch {batch_id}")
    if not jobs.reopen_batch(batch_id):
        raise click.ClickException(
            f"batch {batch_id} is {batch.status.value} and not stalled (its job gave a sign of "
            f"life in the last {jobs.stall_seconds()} s): nothing to resume")
    jobs.run_batch(batch_id)
    db.session.expire_all()
    batch = db.session.get_one(IssueBatch, batch_id)  # found above
    for problem in batch.problems:
        click.echo(f"not issued: {problem}", err=True)
    click.echo(f"batch {batch_id}: {batch.status.value}, {batch.issued} of {batch.total} issued")
