"""Commands for user accounts."""

from flask.cli import AppGroup

users_cli = AppGroup("users", help="User accounts.")
