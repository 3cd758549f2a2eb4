"""flask partners add-liaison: a partner liaison account from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from course_portal.extensions import db
from course_portal.partners import services

partners_cli = AppGroup("partners", help="Partner universities and their liaisons.")


@partners_cli.command("add-liaison")
@click.argument("email")
@click.option("--partner", "partner_id", type=int, required=True,
              help="The partner university's id (see the coordinators' /partner/manage page).")
@click.option("--name", "display_name", required=True, help="The liaison's name.")
@click.option("--locale", type=click.Choice(["en", "zh", "ru"]), default="zh",
              show_default=True, help="Language of pages and emails.")
def add_liaison_command(email: str, partner_id: int, display_name: str, locale: str) -> None:
    """Add a read-only liaison of a partner university; they are mailed a password link."""
    try:
        user = services.add_liaison(partner_id=partner_id, email=email,
                                    display_name=display_name, locale=locale, actor=None)
    except services.PartnerError as error:
        db.session.rollback()
        with force_locale("en"):
            raise click.ClickException(error.text()) from error
    db.session.commit()
    assert user.partner_university is not None  # add_liaison() gave the liaison one
    with force_locale("en"):
        partner = user.partner_university.t("name")
    click.echo(f"added partner liaison {user.email} for {partner}; "
               "a link to choose the password is on its way")
