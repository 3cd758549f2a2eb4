"""The public catalog: the program list and a program's page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from course_portal.catalog import services
from course_portal.core.clock import portal_today
from course_portal.core.pagecache import cached_page
from course_portal.core.permissions import public

bp = Blueprint("catalog", __name__)


@bp.get("/")
@public
@cached_page
def index():
    """Every published program with its next open intake."""
    return render_template("catalog/index.html", entries=services.catalog(portal_today()))


@bp.get("/programs/<code>")
@public
@cached_page
def program(code: str):
    """A program: institute, modules with hours, intakes with dates and seats left."""
    program = services.get_published_program(code)
    if program is None:
        abort(404)
    today = portal_today()
    intakes = services.upcoming_intakes(program, today)
    return render_template("catalog/program.html", program=program, intakes=intakes, today=today)


from course_portal.catalog import manage_views  # noqa: E402,F401
