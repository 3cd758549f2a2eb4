"""Every route is public on purpose or sends anonymous visitors to the login page."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import url_for
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from course_portal import create_app
from course_portal.core.permissions import is_public
from tests.conftest import base_config

#: the endpoints anonymous visitors may open; adding one is a decision, so it is written here
PUBLIC_ENDPOINTS = {
    "accounts.confirm_email",
    "accounts.consent_text",
    "accounts.login",
    "accounts.pinyin_suggestion",
    "accounts.register",
    "accounts.register_sent",
    "accounts.reset_password",
    "accounts.reset_request",
    "accounts.reset_sent",
    "accounts.set_language",
    "calendar.feed",
    "calendar.intake",
    "catalog.index",
    "certificates.verify",
    "certificates.verify_code",
    "certificates.verify_json",
    "certificates.verify_file",
    "certificates.verify_png",
    # the digital credentials: what any verifier reads, and checking one on /verify
    "certificates.did_document",
    "certificates.status_list",
    "certificates.verify_credential",
    "certificates.verify_credential_file",
    "certificates.verify_how",
    "catalog.program",
    "ops.healthz",
    "static",
}

#: methods a browser or a script would send; HEAD and OPTIONS are answered by Flask itself
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# The routes as create_app builds them, listed at import so that each is its own test id.
with tempfile.TemporaryDirectory() as _folder:
    _ROUTE_APP = create_app(base_config("sqlite://", Path(_folder)))


def _public(endpoint: str) -> bool:
    # Flask's own static view cannot carry the @public mark: it is a bound method
    return endpoint == "static" or is_public(_ROUTE_APP.view_functions[endpoint])


def _dummy(converter):
    """A value the URL rule accepts for an argument."""
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "x"


def _cases():
    for rule in sorted(_ROUTE_APP.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if _public(rule.endpoint):
            continue
        values = {name: _dummy(converter) for name, converter in rule._converters.items()}
        url = rule.build(values)[1]
        for method in sorted(set(rule.methods) & set(METHODS)):
            yield pytest.param(rule.endpoint, method, url, id=f"{method} {rule.rule}")


@pytest.mark.parametrize(("endpoint", "method", "url"), list(_cases()))
def test_anonymous_visitor_is_sent_to_login(client, app, endpoint, method, url):
    assert endpoint in app.view_functions
    with app.test_request_context():
        login_path = url_for(app.login_manager.login_view)

    response = client.open(url, method=method)

    assert response.status_code == 302, (
        f"{method} {url} ({endpoint}) answered {response.status_code} to an anonymous visitor; "
        "protect it with @login_required or mark it @public"
    )
    location = urlsplit(response.headers["Location"])
    assert location.path == login_path
    assert location.netloc in {"", "localhost"}


def test_the_public_endpoints_are_the_intended_ones():
    public = {endpoint for endpoint in _ROUTE_APP.view_functions if _public(endpoint)}

    added = sorted(public - PUBLIC_ENDPOINTS)
    removed = sorted(PUBLIC_ENDPOINTS - public)
    assert not added, f"new public endpoints {added}: add them to PUBLIC_ENDPOINTS if intended"
    assert not removed, f"no longer public {removed}: remove them from PUBLIC_ENDPOINTS"


def _wrapper_names(view) -> list[str]:
    names = []
    while view is not None:
        code = getattr(view, "__code__", None)
        names.append(code.co_qualname if code else "")
        view = getattr(view, "__wrapped__", None)
    return names


def test_no_view_is_both_public_and_login_protected():
    # @login_required copies the @public mark onto its wrapper: such a view would be skipped by
    # the test above while it actually turns visitors away
    contradictions = [
        endpoint
        for endpoint, view in _ROUTE_APP.view_functions.items()
        if _public(endpoint)
        and any(name.startswith(("login_required.", "role_required.")) for name in _wrapper_names(view))
    ]
    assert contradictions == []


def test_the_walk_finds_protected_routes():
    # an empty walk would make the access test above pass by testing nothing
    assert list(_cases()), "no protected route found in app.url_map"
