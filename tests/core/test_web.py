"""What every page shares: security headers, error pages, safe redirects, nothing from elsewhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from course_portal.core.web import safe_next
from course_portal.extensions import db as _db
from tests import factories

INCIDENT = re.compile(r'class="incident">([0-9a-f]{12})<')


def incident_of(page: str) -> str:
    """The incident id shown on a 500 page."""
    found = INCIDENT.search(page)
    assert found, "no incident id on the page:\n" + page[:2000]
    return found.group(1)


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# --- headers ------------------------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get("/")

    assert response.status_code == 200
    csp = csp_directives(response)
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # scripts only from this site: no inline script, no eval, no other host
    scripts = csp.get("script-src", csp["default-src"])
    assert scripts == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]


def test_pages_are_not_sniffed_cached_or_framed(client, db):
    response = client.get("/")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "strict-origin", "no-referrer"}
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers["Cache-Control"]


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/portal.css")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_when_served_over_https(make_app):
    plain = make_app().test_client().get("/")
    secure = make_app(HTTPS=True).test_client().get("/")

    assert "Strict-Transport-Security" not in plain.headers
    hsts = secure.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 24 * 3600


# --- error pages --------------------------------------------------------------------------------


def test_404_page_renders_inside_the_layout(client):
    response = client.get("/no/such/page")
    page = response.get_data(as_text=True)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in page
    assert 'class="site-header"' in page  # the layout's header with the navigation
    assert 'href="/"' in page
    assert response.headers["Content-Security-Policy"]


def _app_with_failing_view(make_app):
    app = make_app()

    @app.get("/test/boom")
    def boom():
        # the data in the message must not reach the visitor
        raise RuntimeError("secret detail: password=hunter2")

    @app.get("/test/database-gone")
    def database_gone():
        return str(_db.session.execute(_db.text("SELECT 1")).scalar())

    return app


def test_a_crash_gives_a_500_page_with_an_incident_id_that_is_in_the_log(make_app, caplog):
    app = _app_with_failing_view(make_app)

    response = app.test_client().get("/test/boom")
    page = response.get_data(as_text=True)

    assert response.status_code == 500
    assert "Something went wrong" in page
    incident = incident_of(page)
    logged = [r for r in caplog.records if incident in r.getMessage()]
    assert logged and logged[0].levelname == "ERROR"
    assert "/test/boom" in logged[0].getMessage()
    assert "hunter2" in caplog.text  # the operator gets the traceback...
    for leak in ("Traceback", "RuntimeError", "hunter2", "secret detail", 'File "'):
        assert leak not in page  # ...the visitor does not


def test_every_crash_gets_its_own_incident_id(make_app):
    client = _app_with_failing_view(make_app).test_client()

    first = incident_of(client.get("/test/boom").get_data(as_text=True))
    second = incident_of(client.get("/test/boom").get_data(as_text=True))

    assert first != second


@pytest.fixture
def database_down(make_app):
    """Every query on the app's engine fails, as when the database server has gone."""
    app = _app_with_failing_view(make_app)

    def refuse(conn, cursor, statement, parameters, context, executemany):
        raise OperationalError(statement, parameters, Exception("server closed the connection"))

    with app.app_context():
        engine = _db.engine
    yield app, lambda: event.listen(engine, "before_cursor_execute", refuse)
    if event.contains(engine, "before_cursor_execute", refuse):
        event.remove(engine, "before_cursor_execute", refuse)


def _signed_in_client(app):
    with app.app_context():
        user = factories.make_user()
        _db.session.commit()
        session_id = user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def test_database_down_for_a_signed_in_user_gives_the_retry_page(database_down, caplog):
    app, cut_the_database = database_down
    client = _signed_in_client(app)
    cut_the_database()

    response = client.get("/test/database-gone")
    page = response.get_data(as_text=True)

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "try again" in page
    assert "503 database unavailable GET /test/database-gone" in caplog.text
    assert "server closed the connection" not in page
    assert "Traceback" not in page


def test_a_page_that_cannot_render_without_the_database_falls_back_to_the_plain_retry_page(
        database_down, caplog):
    app, cut_the_database = database_down
    # as in production: no exception propagates to the test, Flask's last resort runs
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = _signed_in_client(app)
    cut_the_database()

    response = client.get("/no/such/page")  # the 404 page needs the user's language
    page = response.get_data(as_text=True)

    assert response.status_code == 503
    assert "Please try again in a few seconds" in page
    assert "系统暂时繁忙" in page  # the plain page speaks every language: the user's is unknown
    assert "503 database unavailable" in caplog.text
    assert "Traceback" not in page
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_crash_while_rendering_the_404_page_still_gives_the_incident_page(make_app, caplog):
    app = _app_with_failing_view(make_app)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.context_processor
    def broken():
        raise RuntimeError("the template context failed")

    response = app.test_client().get("/no/such/page")
    page = response.get_data(as_text=True)

    assert response.status_code == 500
    incident = incident_of(page)
    assert incident in caplog.text
    assert "Traceback" not in page


# --- redirects stay on the site -----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/programs",
        "https://evil.example",
        "http://evil.example/login",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        " //evil.example",
        "/\t/evil.example",
        "/\r\nLocation: https://evil.example",
        "programs/IE",
        "https:evil.example",
    ],
)
def test_safe_next_refuses_other_sites(target):
    assert safe_next(target) == "/"
    assert safe_next(target, default="/profile") == "/profile"


@pytest.mark.parametrize("target", ["/programs/IE?x=1", "/", "/programs/IE#intakes", "/profile"])
def test_safe_next_keeps_paths_on_this_site(target):
    assert safe_next(target) == target


def test_safe_next_without_a_target_gives_the_default():
    assert safe_next(None) == "/"
    assert safe_next("", default="/programs/IE") == "/programs/IE"


# --- nothing from another host ------------------------------------------------------------------


class _Resources(HTMLParser):
    """Every address a page links to or loads, and anything CSP would block."""

    URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "data", "srcset", "manifest"}

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.stylesheets: list[str] = []
        self.inline: list[str] = []
        self._tag_stack: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES and value is not None:
                for url in value.split(",") if name == "srcset" else [value]:
                    self.urls.append((tag, name, url.strip().split(" ")[0]))
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...>")
        if tag == "script" and not attributes.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        if tag == "link" and "stylesheet" in (attributes.get("rel") or "").split():
            self.stylesheets.append(attributes["href"])


def test_the_catalog_loads_nothing_from_another_host(client, db):
    program = factories.make_program(code="IE", title_en="Investment Ecosystem")
    factories.make_intake(program)
    db.session.commit()
    base = "http://localhost/"

    for path in ("/", "/programs/IE"):
        response = client.get(path)
        assert response.status_code == 200
        parser = _Resources()
        parser.feed(response.get_data(as_text=True))

        assert parser.urls, "the page links nothing: the parser found no addresses"
        for tag, attribute, url in parser.urls:
            absolute = urlsplit(urljoin(base + path.lstrip("/"), url))
            assert absolute.scheme in {"http", ""} and absolute.netloc == "localhost", (
                f"{path}: <{tag} {attribute}={url!r}> leaves the site"
            )
        # the CSP forbids inline script and style: they would silently not work
        assert parser.inline == [], f"{path}: {parser.inline}"

        for href in parser.stylesheets:
            css = client.get(href)
            assert css.status_code == 200, href
            text = css.get_data(as_text=True)
            for url in re.findall(r"""url\(\s*['"]?([^'")]+)""", text) + re.findall(
                r"""@import\s+['"]([^'"]+)""", text
            ):
                assert not urlsplit(url).netloc and not url.startswith("//"), f"{href}: {url}"
