"""Hostile values outside form fields: next= redirects, the Host header in emailed links,
line breaks that would add email headers, and file names of uploads."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from course_portal.core.outbox import OutboxMessage, send_pending
from course_portal.enrollment.models import Document
from course_portal.extensions import db
from tests import factories
from tests.hostile.conftest import sign_in

#: where a sign-in must never send the browser; each is a way past a naive "starts with /"
OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "//evil.example/%2e%2e",
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\r\nSet-Cookie: x=1",
]


def _outbox(to: str, kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == to, OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost") \
        and location.startswith(("/", "http://localhost/")) and "evil" not in location


# --- next= --------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(hostile_app, target):
    """A next= to another host or a script lands on the portal's own home page instead."""
    web = hostile_app.test_client()
    teacher = factories.make_teacher()
    db.session.commit()
    response = web.post("/login", query_string={"next": target},
                        data={"email": teacher.email, "password": factories.PASSWORD})
    assert response.status_code in (302, 303)
    assert _stays_here(response.headers["Location"]), response.headers["Location"]
    # already signed in, the sign-in page redirects too: the same rule
    again = web.get("/login", query_string={"next": target})
    assert _stays_here(again.headers["Location"]), again.headers["Location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_two_step_sign_in_never_redirects_off_site(hostile_app, target):
    """Staff sign in in two steps: next= is carried to the second one and checked there."""
    import pyotp

    web = hostile_app.test_client()
    coordinator = factories.make_user(role="coordinator")
    db.session.commit()
    first = web.post("/login", query_string={"next": target},
                     data={"email": coordinator.email, "password": factories.PASSWORD})
    assert first.status_code in (302, 303)
    assert urlsplit(first.headers["Location"]).path == "/login/code"
    second = web.post("/login/code", data={"code": pyotp.TOTP(factories.TOTP_SECRET).now()})
    assert second.status_code in (302, 303), second.get_data(as_text=True)[:2000]
    assert _stays_here(second.headers["Location"]), second.headers["Location"]
    assert urlsplit(second.headers["Location"]).path != "/login/code"


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_never_redirects_off_site(hostile_app, target):
    """The language switch's next= follows the same rule."""
    web = hostile_app.test_client()
    response = web.post("/language", data={"language": "zh", "next": target})
    assert response.status_code in (302, 303)
    assert _stays_here(response.headers["Location"]), response.headers["Location"]


def test_sign_in_follows_a_local_next(hostile_app):
    """The rule is not "ignore next=": a page of the portal is where the teacher lands."""
    web = hostile_app.test_client()
    teacher = factories.make_teacher()
    db.session.commit()
    response = web.post("/login", query_string={"next": "/applications?page=2"},
                        data={"email": teacher.email, "password": factories.PASSWORD})
    assert urlsplit(response.headers["Location"]).path == "/applications"


# --- Host header --------------------------------------------------------------------------------

HOSTILE_HOSTS = [
    {"Host": "evil.example"},
    {"Host": "portal.test", "X-Forwarded-Host": "evil.example"},
    {"Host": "evil.example:443", "X-Forwarded-Proto": "https"},
]


@pytest.mark.parametrize("headers", HOSTILE_HOSTS)
def test_reset_link_uses_base_url_whatever_the_host_header(hostile_app, headers):
    """A reset link built from the request's Host would mail the token to the attacker's site."""
    web = hostile_app.test_client()
    teacher = factories.make_teacher()
    db.session.commit()
    response = web.post("/password/reset", data={"email": teacher.email}, headers=headers)
    assert response.status_code in (302, 303)
    (message,) = _outbox(teacher.email, "account.reset")
    links = re.findall(r"\w+://\S+", message.body_text)
    assert links, message.body_text
    assert all(link.startswith("http://portal.test/") for link in links), links
    assert "evil" not in message.body_text


@pytest.mark.parametrize("headers", HOSTILE_HOSTS)
def test_confirmation_link_uses_base_url_whatever_the_host_header(hostile_app, headers):
    """The same for the link that confirms a new account."""
    from sqlalchemy import select

    from course_portal.catalog.models import PartnerUniversity

    web = hostile_app.test_client()
    email = f"host{id(headers)}{len(headers)}@example.edu.cn"
    with hostile_app.app_context():
        partner = db.session.scalar(select(PartnerUniversity.id).order_by(PartnerUniversity.id))
    data = {
        "email": email, "password": "长城 long enough pass",
        "password_confirm": "长城 long enough pass", "family_name_zh": "欧阳",
        "given_name_zh": "娜娜", "family_name_latin": "Ouyang", "given_name_latin": "Nana",
        "partner_university_id": str(partner or ""), "department": "School of Economics",
        "position": "Lecturer", "academic_title": "none", "locale": "en",
        "consent_processing": "y", "consent_transfer_abroad": "y",
    }
    response = web.post("/register", data=data, headers=headers)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    (message,) = _outbox(email, "account.confirm")
    links = re.findall(r"\w+://\S+", message.body_text)
    assert links and all(link.startswith("http://portal.test/") for link in links), links


# --- email headers ------------------------------------------------------------------------------


def test_line_breaks_in_a_title_add_no_email_header(hostile_app, smtp_server):
    """A program title holding CR/LF (written past the forms) stays in one Subject line."""
    from course_portal.enrollment import services

    program = factories.make_program(
        code="HDR", title_en="Economics\r\nBcc: victim@evil.example\r\n\r\nInjected body")
    intake = factories.make_intake(program)
    application = factories.make_application(intake=intake, status="submitted")
    coordinator = factories.make_user(role="coordinator")
    services.approve(application, coordinator)
    db.session.commit()
    address = application.teacher.email
    (message,) = _outbox(address, "application.approved") or _outbox_any(address)
    assert "\n" not in message.subject and "\r" not in message.subject

    config = hostile_app.config
    saved = config["MAIL_SERVER"], config["MAIL_PORT"]
    config["MAIL_SERVER"], config["MAIL_PORT"] = "127.0.0.1", smtp_server.port
    try:
        send_pending()
        db.session.commit()
    finally:
        config["MAIL_SERVER"], config["MAIL_PORT"] = saved
    (received,) = smtp_server.wait_for(address)
    assert received["Bcc"] is None
    assert str(received["To"]) == address
    assert "victim@evil.example" not in str(received["Subject"])
    assert "Your application to" in str(received["Subject"])


def _outbox_any(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == address).order_by(OutboxMessage.id)))[-1:]


def test_bulk_email_subject_with_line_breaks_is_refused(hostile_app):
    """The one subject a coordinator types: refused with a message, nothing queued."""
    web = hostile_app.test_client()
    coordinator = factories.make_user(role="coordinator")
    application = factories.make_application(status="enrolled")
    db.session.commit()
    sign_in(web, coordinator)
    response = web.post("/dashboard/email", data={
        "audience": "enrolled", "intake": str(application.intake_id), "program": "",
        "partner": "", "funding": "", "subject": "Hello\r\nBcc: victim@evil.example",
        "body": "Text", "action": "send"})
    assert response.status_code == 200
    assert "The subject must be one line." in response.get_data(as_text=True)
    assert not _outbox(application.teacher.email, "dashboard.bulk")


# --- uploads ------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

#: (name sent by the browser, how the name the portal keeps ends); browsers send " and line
#: breaks in a name as %22 and %0D%0A, and backslashes unescaped (old Internet Explorer: the
#: whole Windows path)
FILE_NAMES = [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\x.pdf", "x.pdf"),
    ("/etc/cron.d/evil.pdf", "evil.pdf"),
    ("C:\\Windows\\System32\\evil.pdf", "evil.pdf"),
    ("evil\x00.pdf", "evil.pdf"),
    ("..", "diploma.pdf"),
    ("cv\u202efdp.exe", "cvfdp.exe"),
    ("diploma%0D%0AX-Evil: 1.pdf", "diploma%0D%0AX-Evil: 1.pdf"),
    ("<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
    ("学位证书.pdf", "学位证书.pdf"),
    ("x" * 10_000 + ".pdf", "x" * 251 + ".pdf"),
]


@pytest.mark.parametrize(("sent", "kept"), FILE_NAMES)
def test_upload_file_name_is_only_a_label(hostile_app, sent, kept):
    """A file name cannot choose where the file goes, nor break the download's headers."""
    import io

    web = hostile_app.test_client()
    teacher = factories.make_teacher()
    intake = factories.make_intake(factories.make_program())
    db.session.commit()
    sign_in(web, teacher)
    response = web.post(f"/intakes/{intake.id}/apply", data={
        "motivation": "", "save": "1", "diploma": (io.BytesIO(PDF), sent),
    }, content_type="multipart/form-data")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    document = db.session.scalar(select(Document).join(Document.application).where(
        Document.application.has(teacher_id=teacher.id)))
    name = document.original_filename
    assert name.endswith(kept) and len(name) <= 255, name
    assert not re.search(r"[/\\\x00-\x1f\u202e]", name) and name not in (".", ".."), name
    root = Path(hostile_app.config["UPLOAD_FOLDER"]).resolve()
    stored = root / str(document.application_id) / document.stored_name
    assert stored.is_file() and stored.read_bytes() == PDF

    page = web.get(f"/applications/{document.application_id}").get_data(as_text=True)
    assert "<img src=x onerror" not in page
    download = web.get(f"/documents/{document.id}")
    assert download.status_code == 200 and download.get_data() == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert not re.search(r"[\r\n\x00]|\.\./|\.\.\\", disposition), disposition


# --- values in the path -------------------------------------------------------------------------

#: what a hand-edited or forged link puts where a code or a token goes
PATH_VALUES = ["\x00", "IE-2026-0001\x00", "x" * 10_000, "<script>alert(1)</script>",
               "..%2F..%2Fetc%2Fpasswd", "' OR '1'='1", "汉字", "\u202e"]


def _text_rules(app):
    """Rules with a text part in the path (a code, a token), other than static files."""
    from werkzeug.routing import UnicodeConverter

    for rule in app.url_map.iter_rules():
        names = [name for name, converter in rule._converters.items()  # noqa: SLF001
                 if type(converter) is UnicodeConverter]
        if names and rule.endpoint != "static" and "GET" in (rule.methods or ()):
            yield rule, names


def test_text_in_the_path_is_never_a_server_error(hostile_app):
    """Every page addressed by a code or a token: a NUL, 10,000 characters or markup is a 404."""
    from urllib.parse import quote

    web = hostile_app.test_client()
    sign_in(web, factories.make_user(role="coordinator"))
    db.session.commit()
    rules = list(_text_rules(hostile_app))
    assert rules, "no page is addressed by text: this test would check nothing"
    for rule, names in rules:
        for value in PATH_VALUES:
            path = rule.rule
            for name in names:
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", quote(value, safe="%"), path)
            response = web.get(path)
            assert response.status_code < 500, (rule.endpoint, value[:50], response.status_code)
            assert "<script>alert(1)" not in response.get_data(as_text=True), rule.endpoint


@pytest.mark.parametrize("value", PATH_VALUES + ["{{ 7*7 }}", "欧阳\u0301娜娜"])
def test_pinyin_suggestion_answers_any_name(hostile_app, value):
    """The profile form's helper: whatever is typed, an answer in JSON, never a server error."""
    response = hostile_app.test_client().get("/pinyin", query_string={"family": value,
                                                                       "given": value})
    assert response.status_code == 200
    assert response.is_json and set(response.get_json()) >= {"family", "given"}
