"""Commands for user accounts: create, disable, reset-two-factor, two-factor-code (development)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from course_portal.accounts import services, two_factor
from course_portal.accounts.models import Role
from course_portal.extensions import db

users_cli = AppGroup("users", help="User accounts.")


def _refusal(error: services.AccountError) -> click.ClickException:
    """The service's messages for the terminal, in English (there is no request to ask)."""
    db.session.rollback()
    with force_locale("en"):
        return click.ClickException(error.text())


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.COORDINATOR.value,
    show_default=True,
    help="What the user may do.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The password; asked for (twice) when not given.",
)
@click.option("--name", "display_name", default="", help="The name shown to other staff.")
@click.option(
    "--locale",
    type=click.Choice(["en", "zh", "ru"]),
    default="en",
    show_default=True,
    help="Language of pages and emails.",
)
def create_command(email: str, role: str, password: str, display_name: str, locale: str) -> None:
    """Create a confirmed, enabled user, e.g. flask users create --role coordinator EMAIL."""
    try:
        user = services.create_user(
            email=email,
            password=password,
            role=role,
            display_name=display_name.strip(),
            locale=locale,
        )
    except services.AccountError as error:
        raise _refusal(error) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@users_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Stop a user from signing in and end all their sessions."""
    try:
        user = services.disable_user(email)
    except services.AccountError as error:
        raise _refusal(error) from error
    db.session.commit()
    click.echo(f"Disabled {user.email}; their sessions have ended.")


@users_cli.command("reset-two-factor")
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Forget a user's authenticator, recovery codes and passkeys, and end their sessions."""
    try:
        user = two_factor.reset_two_factor(email)
    except services.AccountError as error:
        raise _refusal(error) from error
    db.session.commit()
    click.echo(f"Two-step sign-in of {user.email} is reset and their sessions have ended; "
               "they set it up again at their next sign-in.")


@users_cli.command("two-factor-code")
@click.argument("email")
def two_factor_code_command(email: str) -> None:
    """Print a user's current sign-in code: only in development, for the demo accounts."""
    if current_app.config["ENV"] != "development":
        raise click.ClickException(
            "two-factor-code works only when ENV is development (COURSE_PORTAL_ENV=development): "
            "anywhere else the code comes from the person's own authenticator app."
        )
    try:
        code = two_factor.current_code(email)
    except services.AccountError as error:
        raise _refusal(error) from error
    click.echo(code)
