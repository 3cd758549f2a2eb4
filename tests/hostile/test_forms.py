"""Every form × each of its text fields × each hostile value: never a 500, never raw markup.

A value is either refused, with a message on the form and what was typed still in it, or
stored as typed (normalised: NFC, trimmed) without NUL bytes and shown escaped. PostgreSQL
refuses NUL in text and enforces VARCHAR lengths, so this module runs on both databases.
"""

from __future__ import annotations

import io
import re

import pytest
from markupsafe import escape

from tests.hostile.conftest import sign_in
from tests.hostile.payloads import PAYLOADS, RAW_MARKUP
from tests.hostile.registry import EXCLUDED, FORMS
from tests.hostile.setups_work import roster_csv
from tests.hostile.spec import (
    CELL,
    CHOICE,
    CSV_FILE,
    CSV_TEXT,
    DATE,
    HIDDEN,
    LINE,
    MULTI,
    NUMBER,
    REASON,
    FormSpec,
    stored_value,
)

#: values worth trying in a field that only parses (numbers, dates, choices, hidden ids)
PARSED_PAYLOADS = ("nul", "long", "html", "cjk")
#: kinds whose value is text that may be kept as typed
TEXT_KINDS = (LINE, MULTI, REASON)
#: a message on the page: a field's error, the form's error, or a flashed error
ERROR_SHOWN = re.compile(r'role="alert"|flash-error|flash-warning')
#: what the template payload becomes when a template evaluates it
EVALUATED = "49 yes"
#: a length message (WTForms' own, or the portal's "Shorten this to …")
LENGTH_MESSAGE = re.compile(r"(longer than|Shorten this to|at most) [0-9,]+ characters")


def _cases():
    for spec in FORMS:
        for name, kind in spec.fields.items():
            payloads = PARSED_PAYLOADS if kind in (NUMBER, DATE, CHOICE, HIDDEN) else PAYLOADS
            for payload in payloads:
                yield pytest.param(spec, name, kind, payload, id=f"{spec.id}-{name}-{payload}")


def _prepare(web, spec: FormSpec):
    """Run the form's setup and sign its user in; the Env it made."""
    env = spec.setup(spec.role)
    if env.user is not None:
        sign_in(web, env.user)
    if env.session:
        with web.session_transaction() as session:
            session.update(env.session)
    return env


def _page(response) -> str:
    return response.get_data(as_text=True)


def _submit(web, spec: FormSpec, env, name: str, kind: str, value: str):
    field = spec.field_name(env, name)
    data = spec.baseline(env)
    if spec.method == "GET":
        data[field] = value
        return web.get(env.url, query_string=data)
    if kind == CSV_FILE:
        data[field] = (_csv_bytes(roster_csv(env, value)), "roster.csv")
        return web.post(env.url, data=data, content_type="multipart/form-data")
    if kind == CSV_TEXT:
        data[field] = roster_csv(env, value)
    else:
        data[field] = value
        if name in spec.twins:
            data[spec.twins[name]] = value
    if spec.files:
        for file_field, (content, filename) in spec.files(env).items():
            data.setdefault(file_field, (io.BytesIO(content), filename))
        return web.post(env.url, data=data, content_type="multipart/form-data")
    return web.post(env.url, data=data)


def _csv_bytes(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8", "surrogatepass"))


def _shown_as_typed(page: str, kind: str, value: str) -> bool:
    """True when the page holds the typed value (or its stored form), escaped."""
    candidates = {value, stored_value(kind if kind in TEXT_KINDS else LINE, value)}
    # addresses are stored lower-case, program codes upper-case
    candidates |= {c.lower() for c in candidates} | {c.upper() for c in candidates}
    return any(str(escape(candidate)) in page for candidate in candidates)


@pytest.mark.parametrize(("spec", "name", "kind", "payload"), list(_cases()))
def test_hostile_value(web, monkeypatch, spec: FormSpec, name: str, kind: str, payload: str):
    """The value is refused with a message and kept, or stored faithfully and shown escaped."""
    value = PAYLOADS[payload]
    for module, attribute, replacement in spec.patches:
        monkeypatch.setattr(f"{module}.{attribute}", replacement)
    env = _prepare(web, spec)
    response = _submit(web, spec, env, name, kind, value)
    page = _page(response)

    assert response.status_code < 500, page[:2000]
    assert not RAW_MARKUP.search(page), "markup from the form reached the page unescaped"
    assert EVALUATED not in page, "the template syntax typed in the form was evaluated"

    if spec.method == "GET" or spec.previews:
        # a search, a filter or a preview: the page is the answer, whatever was typed
        assert response.status_code in (200, 404), response.status_code
        if spec.previews and payload == "html":
            assert "&lt;script&gt;alert(1)" in page, "the preview does not show what was typed"
        return

    if response.status_code in (302, 303):
        _check_accepted(web, spec, env, name, kind, payload, value,
                        response.headers["Location"])
    else:
        _check_refused(response, page, kind, payload, value)


def _check_refused(response, page: str, kind: str, payload: str, value: str) -> None:
    """A refusal: the form again, a message on it, and what was typed still in the field."""
    assert response.status_code in (200, 400, 422), response.status_code
    assert ERROR_SHOWN.search(page), "the form came back without saying what is wrong"
    if kind in (*TEXT_KINDS, NUMBER, DATE, CELL):
        assert _shown_as_typed(page, kind, value), "what was typed is lost"
    if payload == "long" and kind in TEXT_KINDS:
        assert LENGTH_MESSAGE.search(page), "a 10,000-character value needs a length message"


def _check_accepted(web, spec: FormSpec, env, name: str, kind: str, payload: str, value: str,
                    location: str):
    """An acceptance: stored as typed (normalised), no NUL, and escaped where it is shown."""
    if (spec.stored is None or spec.shown is None) and payload in ("html", "template"):
        # the page after the redirect, with its flashed message, is where the value may show
        following = web.get(location)
        assert following.status_code < 500
        assert not RAW_MARKUP.search(_page(following)), "a flashed message is unescaped"
        assert EVALUATED not in _page(following), "a flashed message was evaluated"
    if spec.stored is None or kind not in TEXT_KINDS:
        return
    stored = spec.stored(env, name)
    assert stored is not None, "the form said yes but nothing was stored"
    assert "\x00" not in stored, "a NUL byte reached the database"
    expected = stored_value(kind, value)
    if payload == "nul":
        assert expected.replace("\x00", "") in stored
    else:
        assert expected in stored, f"stored {stored[:200]!r}, typed {value[:200]!r}"
    if spec.shown is not None:
        shown = web.get(spec.shown(env))
        page = _page(shown)
        assert shown.status_code == 200, shown.status_code
        assert not RAW_MARKUP.search(page), "a stored value reached a page unescaped"
        assert EVALUATED not in page, "a stored value was evaluated as a template"
        if payload in ("html", "template"):
            # the checks above mean something only if the value is on the page
            assert str(escape(expected)) in page, f"{spec.shown(env)} does not show {name}"


# --- the registry covers every form -----------------------------------------------------------


def test_every_form_is_covered(hostile_app):
    """A POST endpoint must be in the registry or excluded with a reason: new forms fail here."""
    registered = {spec.endpoint for spec in FORMS if spec.method == "POST"}
    posting = {
        rule.endpoint for rule in hostile_app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint != "static"
    }
    missing = sorted(posting - registered - set(EXCLUDED))
    assert not missing, f"forms without hostile-input tests (add them to tests/hostile/registry.py): {missing}"
    stale = sorted((registered | set(EXCLUDED)) - posting)
    assert not stale, f"registered or excluded endpoints that no longer take a POST: {stale}"


@pytest.mark.parametrize("spec", [s for s in FORMS if s.method == "POST"], ids=lambda s: s.id)
def test_baseline_is_accepted(web, monkeypatch, spec: FormSpec):
    """The baselines are valid: otherwise every refusal above could be the baseline's fault."""
    for module, attribute, replacement in spec.patches:
        monkeypatch.setattr(f"{module}.{attribute}", replacement)
    env = _prepare(web, spec)
    data = spec.baseline(env)
    if spec.files:
        for file_field, (content, filename) in spec.files(env).items():
            data[file_field] = (io.BytesIO(content), filename)
        response = web.post(env.url, data=data, content_type="multipart/form-data")
    else:
        response = web.post(env.url, data=data)
    if spec.baseline_status == 200:
        assert response.status_code == 200, _page(response)[:3000]
    else:
        assert response.status_code in (302, 303), _page(response)[:3000]


def _text_cases():
    for spec in FORMS:
        if spec.method != "POST":
            continue
        for name, kind in spec.fields.items():
            if kind in (*TEXT_KINDS, NUMBER, DATE, CHOICE, CSV_TEXT):
                yield pytest.param(spec, name, id=f"{spec.id}-{name}")


@pytest.mark.parametrize(("spec", "name"), list(_text_cases()))
def test_a_text_field_posted_as_a_file_gets_a_message(web, monkeypatch, spec: FormSpec, name):
    """A multipart part with a filename under a text field's name: the form's message."""
    for module, attribute, replacement in spec.patches:
        monkeypatch.setattr(f"{module}.{attribute}", replacement)
    env = _prepare(web, spec)
    field = spec.field_name(env, name)
    data = spec.baseline(env)
    data[field] = (io.BytesIO(b"<script>alert(1)</script>"), "evil.txt")
    if spec.files:
        for file_field, (content, filename) in spec.files(env).items():
            data.setdefault(file_field, (io.BytesIO(content), filename))
    response = web.post(env.url, data=data, content_type="multipart/form-data")

    page = _page(response)
    assert response.status_code < 500, page[:2000]
    if response.status_code in (302, 303):
        # a form that answers a refusal by sending back with a flashed message
        page = _page(web.get(response.headers["Location"]))
    assert not RAW_MARKUP.search(page)
    assert ERROR_SHOWN.search(page), "a file was taken for the field's text without a word"
