"""flask doctor and flask demo-data."""

import click


@click.command("doctor")
def doctor_command():
    """Check what the portal needs."""


@click.command("demo-data")
def demo_data_command():
    """Load demo data."""
