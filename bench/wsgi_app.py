"""The portal as gunicorn serves it in the bench, plus one bare endpoint: the framework's own limit.

The bare route exists only in this module, never in the application that create_app() builds
for a site: it goes through the same WSGI stack, extensions and request hooks as every page,
and does nothing else.
"""

from bench.pages import BARE_PATH, SETTINGS_PATH, SHOWN_SETTINGS
from course_portal import create_app

app = create_app()


@app.get(BARE_PATH)
def bench_bare():
    """A constant answer: what a page costs with no query and no template."""
    return "ok"


@app.get(SETTINGS_PATH)
def bench_settings():
    """The settings a bench run changes, as the served app holds them (checked by a test)."""
    return {name: str(app.config[name]) for name in SHOWN_SETTINGS}
