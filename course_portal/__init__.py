"""The course portal: SPbPU's professional-development programs for teachers of partner universities."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from course_portal.config import load_config

#: the repository's top-level folders, beside the package
ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, commands."""
    app = Flask(
        __name__,
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("COURSE_PORTAL_INSTANCE_PATH")
        or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    load_config(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    from course_portal.core import form_messages, formdata, ids

    ids.init_app(app)
    formdata.install()
    form_messages.install()
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_commands(app)
    register_steps(app)
    return app


def register_logging(app: Flask) -> None:
    """Log to stderr at INFO for the portal's own loggers."""
    logger = logging.getLogger("course_portal")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))


def register_extensions(app: Flask) -> None:
    """Bind db, migrate, login, csrf, babel and limiter to the app."""
    from course_portal import models  # noqa: F401  (every table known to Alembic)
    from course_portal.core import outbox, pagecache
    from course_portal.core.i18n import PortalDomain, install_template_gettext, select_locale
    from course_portal.core.timezones import reader_zone_name
    from course_portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        # Flask's documented way to add WSGI middleware; mypy sees a method replaced
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=reader_zone_name,
        default_translation_directories=str(ROOT / "translations"),
    )
    install_template_gettext(app)
    # the one Babel object every app shares keeps its domain in a cached property
    babel.domain_instance = PortalDomain()
    limiter.init_app(app)
    outbox.init_app(app)
    pagecache.init_app(app)

    from course_portal.accounts.session import init_login

    init_login(app, login_manager)


def register_blueprints(app: Flask) -> None:
    """One blueprint per feature."""
    from course_portal.accounts.views import bp as accounts_bp
    from course_portal.calendar.views import bp as calendar_bp
    from course_portal.catalog.views import bp as catalog_bp
    from course_portal.certificates.views import bp as certificates_bp
    from course_portal.core.errors import init_app as init_errors
    from course_portal.dashboard.views import bp as dashboard_bp
    from course_portal.enrollment.views import bp as enrollment_bp
    from course_portal.ops.views import bp as ops_bp
    from course_portal.partners.views import bp as partners_bp
    from course_portal.privacy.views import bp as privacy_bp
    from course_portal.progress.views import bp as progress_bp

    app.register_blueprint(catalog_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(enrollment_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(progress_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(partners_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(privacy_bp)
    init_errors(app)


def register_hooks(app: Flask) -> None:
    """Template globals and response headers."""
    from course_portal.core.web import init_app as init_web

    init_web(app)


def register_steps(app: Flask) -> None:
    """Start the timed steps' thread where STEPS says so (make run); see core.scheduler."""
    from course_portal.core.scheduler import start_thread

    start_thread(app)


def register_commands(app: Flask) -> None:
    """Each feature's commands."""
    from course_portal.accounts.cli import users_cli
    from course_portal.certificates.cli import certificates_cli
    from course_portal.core.cli import outbox_cli
    from course_portal.core.jobs import jobs_cli
    from course_portal.core.scheduler import steps_cli
    from course_portal.enrollment.cli import enrollment_cli
    from course_portal.ops.cli import (
        backup_command,
        demo_data_command,
        doctor_command,
        keys_cli,
        restore_command,
    )
    from course_portal.partners.cli import partners_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(steps_cli)
    app.cli.add_command(enrollment_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(doctor_command)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(keys_cli)
    app.cli.add_command(partners_cli)
