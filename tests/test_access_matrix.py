"""Deny by default: every route and method, as every kind of visitor, against one seeded world.

Each endpoint declares who gets in (EXPECTED below). A new route fails here until its author
adds it, so nothing is reachable by accident. The outcomes:

- OK: a 2xx, or a 3xx that is not a redirect to the sign-in page (a 400 or 200 with form errors
  counts when the POST was empty: the visitor got in, and the form said no);
- LOGIN: sent to sign in (anonymous visitors);
- DENIED: 403, signed in but without the right;
- MISSING: 404, the object belongs to someone else (no existence leak).

Every request that does not get in must change nothing: the test compares every table before
and after. The world: two partner universities (Datong, Tianshui), a teacher of each with an
application, results and an issued certificate, a liaison of each, a coordinator, an admin.
The "teacher" owns the objects in the URLs; "other teacher" is a teacher of the other university.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text
from werkzeug.routing import AnyConverter

from course_portal import create_app
from course_portal.accounts.models import Role, User
from course_portal.certificates.models import BatchStatus, IssueBatch, Signatory
from course_portal.enrollment import documents
from course_portal.enrollment.models import Document
from course_portal.extensions import db as _db
from tests.conftest import FreshContextClient, base_config, empty_tables

OK, LOGIN, DENIED, MISSING = "ok", "login", "403", "404"

ANONYMOUS = "anonymous"
TEACHER = "teacher"
OTHER_TEACHER = "other teacher"
COORDINATOR = "coordinator"
LIAISON = "liaison"
OTHER_LIAISON = "other liaison"
ADMIN = "admin"
#: the order in which each URL is tried: those who must be kept out first, so that what they
#: must not change is still as the world made it
ROLES = (ANONYMOUS, OTHER_TEACHER, OTHER_LIAISON, LIAISON, TEACHER, COORDINATOR, ADMIN)
TEACHERS = (TEACHER, OTHER_TEACHER)
LIAISONS = (LIAISON, OTHER_LIAISON)
STAFF = (COORDINATOR, ADMIN)

#: methods a browser or a script sends; HEAD and OPTIONS are answered by Flask itself
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def outcomes(default: str = DENIED, **by_role: str) -> dict[str, str]:
    """Everyone signed in gets `default`, anonymous visitors LOGIN, unless named otherwise."""
    table = {role: default for role in ROLES}
    table[ANONYMOUS] = LOGIN
    for name, outcome in by_role.items():
        table[name.replace("_", " ")] = outcome
    return table


def let_in(*roles: str, missing: tuple[str, ...] = ()) -> dict[str, str]:
    """These roles get in, those in `missing` get 404, other signed-in users 403."""
    table = outcomes(DENIED)
    for role in roles:
        table[role] = OK
    for role in missing:
        table[role] = MISSING
    return table


EVERYONE = {role: OK for role in ROLES}
SIGNED_IN = outcomes(OK)
STAFF_ONLY = let_in(*STAFF)
TEACHERS_ONLY = let_in(*TEACHERS)
#: the teacher's own object, which coordinators and admins may see too
OWNER_OR_STAFF = let_in(TEACHER, *STAFF, missing=(OTHER_TEACHER, *LIAISONS))
#: the teacher's own object on a teacher-only page
OWNER = let_in(TEACHER, missing=(OTHER_TEACHER,))
LIAISONS_ONLY = let_in(*LIAISONS)
#: an object of the liaison's university: the other university's liaison gets 404
OWN_UNIVERSITY = let_in(LIAISON, missing=(OTHER_LIAISON,))
#: the roles that sign in with a code too
TWO_STEP = let_in(*STAFF, *LIAISONS)
#: an emailed link with an unknown token: the same 404 for everyone
UNKNOWN_TOKEN = {role: MISSING for role in ROLES}

#: endpoint -> outcomes, or {method: outcomes} where the methods differ. Adding a route means
#: deciding who may open it: write the decision here.
EXPECTED: dict[str, dict] = {
    "accounts.change_password": SIGNED_IN,
    "accounts.confirm_email": UNKNOWN_TOKEN,
    # consents are a teacher's: staff give none; the texts themselves are public
    "accounts.consent_page": TEACHERS_ONLY,
    "accounts.consent_text": EVERYONE,
    "accounts.withdraw_consent": TEACHERS_ONLY,
    "accounts.edit_profile": SIGNED_IN,
    "accounts.login": EVERYONE,
    # without a password typed a moment ago there is no code to ask for: anonymous visitors are
    # sent back to sign in, signed-in users home
    "accounts.login_code": SIGNED_IN,
    # the passkey step instead of the code: the same pending sign-in, the same answers
    "accounts.login_passkey": SIGNED_IN,
    "accounts.logout": SIGNED_IN,
    "accounts.pinyin_suggestion": EVERYONE,
    "accounts.profile": SIGNED_IN,
    "accounts.register": EVERYONE,
    "accounts.register_sent": EVERYONE,
    "accounts.reset_password": UNKNOWN_TOKEN,
    "accounts.reset_request": EVERYONE,
    "accounts.reset_sent": EVERYONE,
    "accounts.set_language": EVERYONE,
    "accounts.two_factor_settings": TWO_STEP,
    "accounts.two_factor_setup": TWO_STEP,
    # passkeys: staff who sign in with a second step add their own; the seeded one is the
    # coordinator's, so everyone else who may hold passkeys gets 404
    "accounts.add_passkey": TWO_STEP,
    "accounts.remove_passkey": let_in(COORDINATOR, missing=(ADMIN, *LIAISONS)),
    # a private feed whose token is in the address, like an emailed link
    "calendar.feed": UNKNOWN_TOKEN,
    "calendar.intake": EVERYONE,
    "calendar.reset": TEACHERS_ONLY,
    "catalog.index": EVERYONE,
    "catalog.manage_intake": STAFF_ONLY,
    "catalog.manage_intake_new": STAFF_ONLY,
    "catalog.manage_intake_open": STAFF_ONLY,
    "catalog.manage_intakes": STAFF_ONLY,
    "catalog.manage_modules": STAFF_ONLY,
    "catalog.manage_program": STAFF_ONLY,
    "catalog.manage_program_new": STAFF_ONLY,
    "catalog.manage_programs": STAFF_ONLY,
    "catalog.program": EVERYONE,
    "certificates.ask_profiles": STAFF_ONLY,
    "certificates.batch": STAFF_ONLY,
    "certificates.credited_hours": STAFF_ONLY,
    "certificates.download": OWNER_OR_STAFF,
    "certificates.download_png": OWNER_OR_STAFF,
    # the signed Open Badges credential, from the teacher's certificates page
    "certificates.download_credential": OWNER_OR_STAFF,
    # the issuer's DID document and the revocation list: what any verifier reads
    "certificates.did_document": EVERYONE,
    "certificates.status_list": EVERYONE,
    "certificates.frdo_xlsx": STAFF_ONLY,
    "certificates.intake_pdf": STAFF_ONLY,
    "certificates.intake_zip": STAFF_ONLY,
    "certificates.issue": STAFF_ONLY,
    "certificates.issue_all": STAFF_ONLY,
    # who issues and who signs: admins only, not coordinators
    "certificates.issuer": let_in(ADMIN),
    "certificates.issuer_director": let_in(ADMIN),
    "certificates.issuer_image": let_in(ADMIN),
    "certificates.issuer_signatory": let_in(ADMIN),
    "certificates.manage_certificate": STAFF_ONLY,
    "certificates.manage_index": STAFF_ONLY,
    "certificates.manage_intake": STAFF_ONLY,
    # every signed-in user has a list of their own certificates (empty for staff)
    "certificates.mine": SIGNED_IN,
    "certificates.registry_csv": STAFF_ONLY,
    "certificates.registry_page": STAFF_ONLY,
    "certificates.registry_xlsx": STAFF_ONLY,
    "certificates.reissue": STAFF_ONLY,
    "certificates.resume_batch": STAFF_ONLY,
    "certificates.revoke": STAFF_ONLY,
    "certificates.russian_name": STAFF_ONLY,
    "certificates.verify": EVERYONE,
    "certificates.verify_code": EVERYONE,
    # a PDF checked and forgotten; GET leads to the form on /verify
    "certificates.verify_file": EVERYONE,
    "certificates.verify_json": EVERYONE,
    # the share card, as public as the page whose address it extends
    "certificates.verify_png": EVERYONE,
    # a credential checked and forgotten, and the credential of a public verification page
    "certificates.verify_credential": EVERYONE,
    "certificates.verify_credential_file": EVERYONE,
    # how to check a certificate without the portal, in the reader's language
    "certificates.verify_how": EVERYONE,
    "dashboard.audit": STAFF_ONLY,
    "dashboard.audit_csv": STAFF_ONLY,
    "dashboard.bulk_email": STAFF_ONLY,
    "dashboard.index": STAFF_ONLY,
    "dashboard.intake": STAFF_ONLY,
    "dashboard.partner_report": STAFF_ONLY,
    "dashboard.partner_report_file": STAFF_ONLY,
    "dashboard.report_list": STAFF_ONLY,
    "dashboard.status_report_file": STAFF_ONLY,
    "enrollment.application": OWNER_OR_STAFF,
    "enrollment.apply": TEACHERS_ONLY,
    # the approval email's link: the teacher's own application only
    "enrollment.confirm_seat": OWNER,
    "enrollment.document": OWNER_OR_STAFF,
    "enrollment.my_applications": TEACHERS_ONLY,
    "enrollment.review_application": STAFF_ONLY,
    "enrollment.review_decide": STAFF_ONLY,
    "enrollment.review_export_csv": STAFF_ONLY,
    "enrollment.review_extend_confirmation": STAFF_ONLY,
    "enrollment.review_export_xlsx": STAFF_ONLY,
    "enrollment.review_queue": STAFF_ONLY,
    "enrollment.withdraw": OWNER,
    "ops.healthz": EVERYONE,
    "partners.certificate_pdf": OWN_UNIVERSITY,
    "partners.disable": STAFF_ONLY,
    "partners.export": LIAISONS_ONLY,
    "partners.home": LIAISONS_ONLY,
    "partners.manage": STAFF_ONLY,
    "partners.teacher": OWN_UNIVERSITY,
    # a copy of one's data: only whoever asked for it, staff included, may see or download it
    "privacy.cancel_erasure": TEACHERS_ONLY,
    "privacy.confirm_erasure": STAFF_ONLY,
    "privacy.download_export": let_in(TEACHER, missing=(OTHER_TEACHER, *LIAISONS, *STAFF)),
    "privacy.erasure_page": TEACHERS_ONLY,
    "privacy.erasures": STAFF_ONLY,
    "privacy.export_status": let_in(TEACHER, missing=(OTHER_TEACHER, *LIAISONS, *STAFF)),
    "privacy.request_own_export": TEACHERS_ONLY,
    "privacy.teacher": STAFF_ONLY,
    "progress.application": OWNER,
    "progress.close_intake": STAFF_ONLY,
    "progress.mine": TEACHERS_ONLY,
    "progress.record": STAFF_ONLY,
    "progress.roster": STAFF_ONLY,
    "progress.roster_import": STAFF_ONLY,
    "progress.roster_import_confirm": STAFF_ONLY,
    "progress.roster_template": STAFF_ONLY,
    "progress.rules": STAFF_ONLY,
    "progress.schedule": STAFF_ONLY,
    "static": EVERYONE,
}

# The routes as create_app builds them, listed at import so that each is its own test id.
with tempfile.TemporaryDirectory() as _folder:
    _ROUTE_APP = create_app(base_config("sqlite://", Path(_folder)))
_RULES = sorted(_ROUTE_APP.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def _cases():
    for rule in _RULES:
        for method in sorted(set(rule.methods) & set(METHODS)):
            yield pytest.param(rule.endpoint, method, rule.rule, id=f"{method} {rule.rule}")


def expected_for(endpoint: str, method: str) -> dict[str, str] | None:
    """The declared outcomes of the endpoint for the method, or None when nobody declared them."""
    declared = EXPECTED.get(endpoint)
    if declared is None or not set(declared) & set(METHODS):
        return declared
    return declared.get(method)


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    """The ids a URL needs, and each role's user id (None for anonymous)."""

    users: dict[str, int | None]
    values: dict[str, object]
    #: values for one endpoint's arguments where the shared ones do not fit
    by_endpoint: dict[str, dict[str, object]]


def _seed() -> World:
    from tests import factories
    from tests.partners.helpers import make_liaison, make_staff, make_world

    world = make_world()
    spare = make_liaison(world.tianshui, email="spare.liaison@example.edu.cn")
    admin = make_staff("admin")
    from course_portal.accounts.passkeys import Passkey

    passkey = Passkey(user_id=world.coordinator.id, name="YubiKey", credential_id=b"matrix-key",
                      public_key=b"not-a-real-key")
    _db.session.add(passkey)
    batch = IssueBatch(intake_id=world.intake.id, requested_by_id=world.coordinator.id,
                       status=BatchStatus.DONE, total=2, processed=2, issued=2)
    _db.session.add(batch)
    # a draft of the other teacher, which no one else may touch through the application form
    factories.make_application(teacher=world.other.teacher, intake=world.upcoming,
                               status="draft")
    document = _db.session.scalar(select(Document).where(
        Document.application_id == world.completed.id).order_by(Document.id).limit(1))
    path = documents._path_of(document.application_id, document.stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    # a signature image, so that certificates.issuer_image has one to serve
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGBA", (60, 24), (20, 40, 160, 255)).save(picture, "PNG")
    signer = _db.session.scalar(select(Signatory).where(Signatory.slot == "rector"))
    signer.signature_png = picture.getvalue()
    signer.signature_sha256 = hashlib.sha256(signer.signature_png).hexdigest()
    # a copy of the teacher's data, ready, and a request to erase a spare teacher's
    from datetime import timedelta

    from course_portal.core import clock
    from course_portal.privacy import export as exports
    from course_portal.privacy.models import DataExport, ErasureRequest, ExportStatus

    copy = DataExport(user_id=world.completed.teacher_id,
                      requested_by_id=world.completed.teacher_id, status=ExportStatus.READY,
                      file_name="0" * 32 + ".zip", size=22,
                      expires_at=clock.now() + timedelta(days=30))
    leaving = factories.make_teacher(email="leaving@example.edu.cn")
    _db.session.add(copy)
    _db.session.flush()
    erasure_request = ErasureRequest(user_id=leaving.id,
                                     proceeds_at=clock.now() + timedelta(days=14))
    _db.session.add(erasure_request)
    exports.export_folder().mkdir(parents=True, exist_ok=True)
    exports.path_of(copy).write_bytes(b"PK\x05\x06" + b"\0" * 18)
    _db.session.commit()
    return World(
        users={
            ANONYMOUS: None,
            TEACHER: world.completed.teacher_id,
            OTHER_TEACHER: world.other.teacher_id,
            COORDINATOR: world.coordinator.id,
            LIAISON: world.liaison.id,
            OTHER_LIAISON: world.other_liaison.id,
            ADMIN: admin.id,
        },
        values={
            "application_id": world.completed.id,
            "batch_id": batch.id,
            "certificate_id": world.certificate.id,
            "code": world.certificate.verification_code,
            "document_id": document.id,
            "filename": "css/portal.css",
            "institute_id": world.intake.program.institute_id,
            "intake_id": world.intake.id,
            "partner_id": world.datong.id,
            "program_id": world.intake.program_id,
            "teacher_id": world.completed.teacher_id,
            "token": "not-a-token-that-was-ever-issued-0000",
            "user_id": spare.id,
            "passkey_id": passkey.id,
            "export_id": copy.id,
            "request_id": erasure_request.id,
        },
        by_endpoint={"catalog.program": {"code": world.intake.program.code},
                     "accounts.consent_text": {"kind": "processing", "version": 1},
                     "privacy.teacher": {"user_id": world.completed.teacher_id},
                     "certificates.issuer_image": {"kind": "signature", "image_id": signer.id},
                     "certificates.issuer_signatory": {"role": "rector"},
                     "certificates.status_list": {"number": 0}},
    )


@pytest.fixture(scope="module")
def matrix(database_url, _schema, tmp_path_factory):
    """One app and one world for the whole matrix; every row is removed afterwards."""
    config = base_config(database_url, tmp_path_factory.mktemp("matrix"))
    application = create_app(config)
    application.test_client_class = FreshContextClient
    with application.app_context():
        world = _seed()
        _db.session.remove()
        yield application, world
        _db.session.remove()
        empty_tables()
        _db.engine.dispose()


def _url(rule, endpoint: str, world: World) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
            continue
        known = {**world.values, **world.by_endpoint.get(endpoint, {})}
        assert name in known, (
            f"{rule.rule} ({endpoint}) takes <{name}>: give the matrix a value for it in "
            "World.values (an id of the seeded world)")
        values[name] = known[name]
    return rule.build(values)[1]


def _client(application, world: World, role: str):
    """A new client signed in as the role, with the user's current session token."""
    client = application.test_client()
    user_id = world.users[role]
    if user_id is not None:
        user = _db.session.get(User, user_id)
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        _db.session.rollback()
    return client


def _fingerprint() -> str:
    """A digest of every row of every table: what a refused request must leave as it was."""
    digest = hashlib.sha256()
    with _db.engine.connect() as conn:
        for table in _db.metadata.sorted_tables:
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns) or "1"
            query = text(f'SELECT * FROM "{table.name}" ORDER BY {order}')  # noqa: S608
            for row in conn.execute(query):
                digest.update(repr(tuple(row)).encode())
            digest.update(table.name.encode())
    return digest.hexdigest()


def _outcome(response, login_path: str) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers.get("Location", ""))
        return LOGIN if location.path == login_path else OK
    if status == 403:
        return DENIED
    if status == 404:
        return MISSING
    if status < 300 or status == 400:
        return OK
    return f"unexpected {status}"


@pytest.mark.parametrize(("endpoint", "method", "rule_text"), list(_cases()))
def test_route_answers_each_role_as_declared(matrix, endpoint, method, rule_text):
    application, world = matrix
    expected = expected_for(endpoint, method)
    assert expected is not None, (
        f"{method} {rule_text} ({endpoint}) is not in EXPECTED of tests/test_access_matrix.py: "
        "decide who may open it (EVERYONE, SIGNED_IN, STAFF_ONLY, OWNER_OR_STAFF, ...) and add it"
    )
    rule = next(r for r in application.url_map.iter_rules()
                if r.endpoint == endpoint and r.rule == rule_text)
    url = _url(rule, endpoint, world)
    login_path = "/login"
    wrong = []
    for role in ROLES:
        client = _client(application, world, role)
        kept_out = expected[role] != OK
        before = _fingerprint() if kept_out else None
        response = client.open(url, method=method, data={})
        response.get_data()  # a streamed body runs now, in its own context
        response.close()
        got = _outcome(response, login_path)
        if got != expected[role]:
            wrong.append(f"{role}: expected {expected[role]}, got {got} "
                         f"({response.status_code} {response.headers.get('Location', '')})")
        if before is not None and _fingerprint() != before:
            wrong.append(f"{role}: was refused ({got}) but the {method} changed the database")
    assert not wrong, f"{method} {url} ({endpoint}):\n  " + "\n  ".join(wrong)


def test_every_declared_endpoint_still_exists():
    stale = sorted(set(EXPECTED) - set(_ROUTE_APP.view_functions))
    assert not stale, f"remove these endpoints from EXPECTED, they are gone: {stale}"


def test_the_matrix_covers_every_route_and_role():
    # an empty walk, or a table that lets nobody in or keeps nobody out, would test nothing
    cases = list(_cases())
    assert len(cases) > 80
    assert all(set(table) == set(ROLES) for table in EXPECTED.values()
               if not set(table) <= set(METHODS))
    kinds = {outcome for table in EXPECTED.values() for outcome in table.values()}
    assert kinds == {OK, LOGIN, DENIED, MISSING}


def test_the_fingerprint_notices_a_single_changed_value(matrix):
    # the "changed nothing" check above is only as good as this digest
    _application, world = matrix
    before = _fingerprint()
    user = _db.session.get(User, world.users[ADMIN])
    name = user.display_name
    user.display_name = name + "."
    _db.session.commit()
    changed = _fingerprint()
    user.display_name = name
    _db.session.commit()  # (its updated_at stays changed: no later test compares with before)

    assert changed != before


# --- mass assignment: extra form fields change nothing they should not ----------------------

#: fields no form offers, as an attacker would add them to a POST
EXTRA_FIELDS = {"role": "admin", "is_enabled": "1", "email_confirmed_at": "2020-01-01",
                "totp_enabled_at": "2020-01-01", "session_token": "chosen"}


def _user(user_id: int) -> User:
    _db.session.expire_all()
    return _db.session.get(User, user_id)


def test_teacher_profile_form_ignores_role_account_and_liaison_fields(matrix):
    from tests.accounts.helpers import registration

    application, world = matrix
    teacher_id, other_id = world.users[TEACHER], world.users[OTHER_TEACHER]
    other_before = _user(other_id).profile.department
    token_before = _user(teacher_id).session_token
    data = registration(department="School of Economics, changed",
                        partner_university_id=str(world.values["partner_id"]))
    for name in ("email", "password", "password_confirm"):
        data.pop(name)
    data.update(EXTRA_FIELDS, user_id=str(other_id), teacher_id=str(other_id), id=str(other_id),
                enabled="0")

    response = _client(application, world, TEACHER).post("/profile/edit", data=data)

    assert response.status_code == 302, "the profile should have been saved"
    teacher = _user(teacher_id)
    assert teacher.profile.department == "School of Economics, changed"
    assert teacher.role == Role.TEACHER and teacher.is_enabled
    assert teacher.partner_university_id is None  # the liaison link is never a form field
    assert teacher.profile.partner_university_id == world.values["partner_id"]
    assert teacher.session_token == token_before and teacher.totp_enabled_at is None
    assert _user(other_id).profile.department == other_before


def test_liaison_profile_form_cannot_move_them_to_another_university(matrix):
    application, world = matrix
    liaison_id = world.users[LIAISON]
    before = _user(liaison_id)
    partner_before = before.partner_university_id
    other_partner = _user(world.users[OTHER_LIAISON]).partner_university_id
    data = {"display_name": "Zhao Min", "locale": "zh", **EXTRA_FIELDS,
            "partner_university_id": str(other_partner), "partner": str(other_partner)}

    response = _client(application, world, LIAISON).post("/profile/edit", data=data)

    assert response.status_code == 302, "the profile should have been saved"
    liaison = _user(liaison_id)
    assert liaison.display_name == "Zhao Min"
    assert liaison.partner_university_id == partner_before
    assert liaison.role == Role.PARTNER_LIAISON
    # and the pages still show their own university's teachers only
    page = _client(application, world, LIAISON).get("/partner/").get_data(as_text=True)
    assert "OUYANG Nana" in page and "WANG Fang" not in page


def test_registration_ignores_role_state_and_liaison_fields(matrix):
    from tests.accounts.helpers import registration

    application, world = matrix
    partner_id = world.values["partner_id"]
    data = registration(email="mass.assignment@example.edu.cn",
                        partner_university_id=str(partner_id))
    data.update(EXTRA_FIELDS, confirmed="1")

    response = _client(application, world, ANONYMOUS).post("/register", data=data)

    assert response.status_code == 302
    user = _db.session.scalar(select(User).where(User.email == "mass.assignment@example.edu.cn"))
    assert user.role == Role.TEACHER
    assert user.email_confirmed_at is None and not user.is_active
    assert user.partner_university_id is None
    assert user.profile.partner_university_id == partner_id  # the form's own field
    assert user.totp_enabled_at is None and user.session_token != "chosen"


def test_application_form_ignores_another_teachers_ids_and_a_status(matrix):
    from course_portal.enrollment.models import Application, ApplicationStatus

    application, world = matrix
    teacher_id, other_id = world.users[TEACHER], world.users[OTHER_TEACHER]
    others = _db.session.scalar(select(Application).where(Application.teacher_id == other_id,
                                                          Application.status == "draft"))
    intake_id, others_id, others_motivation = others.intake_id, others.id, others.motivation
    data = {"motivation": "Mine, not theirs.", "save": "Save draft", "status": "approved",
            "teacher_id": str(other_id), "user_id": str(other_id),
            "application_id": str(others_id), "id": str(others_id), "intake_id": "1",
            "decided_at": "2020-01-01", "reason": "approved by myself"}

    response = _client(application, world, TEACHER).post(f"/intakes/{intake_id}/apply",
                                                          data=data)

    assert response.status_code == 302
    _db.session.expire_all()
    mine = _db.session.scalar(select(Application).where(Application.teacher_id == teacher_id,
                                                        Application.intake_id == intake_id))
    assert mine.motivation == "Mine, not theirs."
    assert mine.status == ApplicationStatus.DRAFT and mine.reason == ""
    assert mine.decided_at is None
    theirs = _db.session.get(Application, others_id)
    assert theirs.teacher_id == other_id and theirs.motivation == others_motivation
    assert theirs.status == ApplicationStatus.DRAFT


def test_withdrawing_another_teachers_application_changes_nothing(matrix):
    from course_portal.enrollment.models import Application

    application, world = matrix
    other_id = world.users[OTHER_TEACHER]
    theirs = _db.session.scalar(select(Application).where(
        Application.teacher_id == other_id, Application.intake_id == world.values["intake_id"]))
    theirs_id, status = theirs.id, theirs.status

    response = _client(application, world, TEACHER).post(
        f"/applications/{theirs_id}/withdraw", data={"confirm": "Yes, withdraw",
                                                     "application_id": str(theirs_id)})

    assert response.status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Application, theirs_id).status == status
