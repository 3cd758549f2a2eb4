"""Every form of the portal: where it posts, who uses it, a valid filling, and its text fields.

A form is a FormSpec. Its setup creates the rows the form needs (fresh ones for each test) and
returns an Env: the page's address, the signed-in user and whatever the baseline and the
read-back need. The suite posts the baseline with one field replaced by a hostile value.

A POST endpoint that is neither here nor in EXCLUDED fails test_every_form_is_covered: add the
new form here (or, when it has no field a person types into, to EXCLUDED with the reason).
"""

from __future__ import annotations

from tests import factories
from tests.hostile import setups_passkeys as passkeys
from tests.hostile import setups_people as people
from tests.hostile import setups_privacy as privacy
from tests.hostile import setups_work as work
from tests.hostile.conftest import make_role
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
    PASSWORD,
    REASON,
    Env,
    FormSpec,
    commit,
    unique,
)

FORMS: list[FormSpec] = [
    FormSpec(
        "privacy.teacher", "coordinator", privacy.staff_copy_setup,
        lambda env: {"reason": "email of 3 December"}, {"reason": LINE},
        stored=privacy.staff_copy_stored,
    ),
    FormSpec(
        "privacy.erasure_page", "teacher",
        lambda role: Env(url="/privacy/erasure", user=make_role(role)),
        lambda env: {"password": factories.PASSWORD}, {"password": PASSWORD},
    ),
    FormSpec(
        "accounts.register", None,
        lambda role: Env(url="/register", rows={"email": unique("new") + "@example.edu.cn"}),
        people.registration_baseline,
        {"email": LINE, "password": PASSWORD, **people.PROFILE_FIELDS},
        twins={"password": "password_confirm"}, stored=people.registered,
    ),
    FormSpec(
        "accounts.login", None,
        lambda role: Env(url="/login", user=None, rows={"user": commit(factories.make_teacher())}),
        lambda env: {"email": env.rows["user"].email, "password": "wrong password"},
        {"email": LINE, "password": PASSWORD}, baseline_status=200,
    ),
    FormSpec(
        "accounts.reset_request", None, lambda role: Env(url="/password/reset"),
        lambda env: {"email": "nobody@example.edu.cn"}, {"email": LINE},
    ),
    FormSpec(
        "accounts.reset_password", None, people.reset_setup,
        lambda env: {"new_password": "长城 long enough pass",
                     "new_password_confirm": "长城 long enough pass"},
        {"new_password": PASSWORD}, twins={"new_password": "new_password_confirm"},
    ),
    FormSpec(
        "accounts.change_password", "teacher",
        lambda role: Env(url="/password/change", user=make_role(role)),
        lambda env: {"current_password": factories.PASSWORD,
                     "new_password": "长城 long enough pass",
                     "new_password_confirm": "长城 long enough pass"},
        {"current_password": PASSWORD, "new_password": PASSWORD},
        twins={"new_password": "new_password_confirm"},
    ),
    FormSpec(
        "accounts.edit_profile", "teacher",
        lambda role: Env(url="/profile/edit", user=make_role(role)),
        people.teacher_profile_baseline, people.PROFILE_FIELDS,
        stored=people.teacher_profile_stored, shown=lambda env: "/profile", name="teacher-profile",
    ),
    FormSpec(
        "accounts.edit_profile", "coordinator",
        lambda role: Env(url="/profile/edit", user=make_role(role)),
        lambda env: {"display_name": "Anna Petrova", "locale": "en"},
        {"display_name": LINE}, stored=people.staff_stored, shown=lambda env: "/profile",
        name="staff-profile",
    ),
    FormSpec(
        "accounts.login_code", None, people.code_setup, lambda env: {"code": "000000"},
        {"code": HIDDEN}, baseline_status=200,
    ),
    FormSpec(
        "accounts.two_factor_setup", "coordinator", people.two_factor_setup_setup,
        lambda env: {"code": "000000"}, {"code": HIDDEN}, baseline_status=200,
    ),
    FormSpec(
        "accounts.two_factor_settings", "coordinator",
        lambda role: Env(url="/two-factor", user=make_role(role)),
        lambda env: {"password": factories.PASSWORD}, {"password": PASSWORD},
        baseline_status=200,
    ),
    # a software authenticator answers the challenge kept in the session (see setups_passkeys)
    FormSpec(
        "accounts.add_passkey", "coordinator", passkeys.add_setup, passkeys.add_baseline,
        {"name": LINE, "credential": HIDDEN}, stored=passkeys.add_stored,
        shown=lambda env: "/two-factor",
    ),
    FormSpec(
        "accounts.login_passkey", None, passkeys.sign_in_setup, passkeys.sign_in_baseline,
        {"credential": HIDDEN},
    ),
    FormSpec(
        "partners.manage", "coordinator", people.liaison_setup, people.liaison_baseline,
        {"email": LINE, "display_name": LINE, "partner": CHOICE},
        stored=people.liaison_stored, shown=lambda env: "/partner/manage",
    ),
    FormSpec(
        "partners.home", "partner_liaison", people.liaison_home_setup, lambda env: {},
        {"q": LINE, "intake": CHOICE, "status": CHOICE, "page": NUMBER}, method="GET",
    ),
    FormSpec(
        "catalog.manage_program_new", "coordinator", people.program_new_setup, people.program_baseline,
        {"code": LINE, "title_en": LINE, "title_zh": LINE, "title_ru": LINE,
         "description_en": MULTI, "description_zh": MULTI, "description_ru": MULTI,
         "duration_months": NUMBER},
        stored=people.program_stored, shown=people.program_shown,
    ),
    FormSpec(
        "catalog.manage_program", "coordinator", people.program_edit_setup, people.program_baseline,
        {"title_en": LINE, "description_en": MULTI},
        stored=people.program_stored, shown=people.program_shown,
    ),
    FormSpec(
        "catalog.manage_modules", "coordinator", people.modules_setup, people.modules_baseline,
        {"modules-0-title_en": LINE, "modules-0-title_zh": LINE, "modules-0-title_ru": LINE,
         "modules-0-hours": NUMBER, "modules-0-position": NUMBER},
        stored=people.module_stored, shown=people.program_shown,
    ),
    FormSpec(
        "catalog.manage_intake_new", "coordinator", people.intake_new_setup, people.intake_baseline,
        {"title": LINE, "capacity": NUMBER, "starts_on": DATE},
        stored=people.intake_stored, shown=people.intakes_shown,
    ),
    FormSpec(
        "catalog.manage_intake", "coordinator", people.intake_edit_setup, people.intake_baseline,
        {"title": LINE}, stored=people.intake_stored, shown=people.intakes_shown,
    ),
    FormSpec(
        "enrollment.apply", "teacher", work.apply_setup, work.apply_baseline,
        {"motivation": MULTI, "funding_other": LINE},
        stored=work.apply_stored, shown=work.apply_shown,
    ),
    FormSpec(
        "enrollment.apply", "teacher", work.apply_profile_gaps_setup,
        work.apply_profile_gaps_baseline, {"department": LINE, "position": LINE},
        stored=work.apply_profile_gaps_stored, shown=lambda env: "/profile",
        name="apply-profile-gaps",
    ),
    FormSpec(
        "enrollment.review_queue", "coordinator", work.queue_setup, work.queue_baseline,
        {"reason": MULTI, "ids": HIDDEN}, stored=work.decision_stored,
        shown=lambda env: f"/review/applications/{env.rows['application'].id}",
    ),
    FormSpec(
        "enrollment.review_decide", "coordinator", work.decide_setup, work.decide_baseline,
        {"reason": MULTI, "seen_status": HIDDEN}, stored=work.decision_stored,
        shown=lambda env: f"/review/applications/{env.rows['application'].id}",
    ),
    FormSpec(
        "enrollment.review_extend_confirmation", "coordinator", work.extend_setup,
        work.extend_baseline, {"extend-reason": MULTI, "extend-until": DATE},
        stored=work.extend_stored,
        shown=lambda env: f"/review/applications/{env.rows['application'].id}",
    ),
    FormSpec(
        "certificates.revoke", "coordinator",
        lambda role: work.certificate_setup(role, "/certificates/manage/certificates/{id}/revoke"),
        lambda env: {"revoke-reason": "Issued by mistake."}, {"revoke-reason": REASON},
        stored=work.revoke_stored, shown=work.verify_shown, patches=work.ONE_PDF,
    ),
    FormSpec(
        "certificates.reissue", "coordinator",
        lambda role: work.certificate_setup(role, "/certificates/manage/certificates/{id}/reissue"),
        lambda env: {"reissue-reason": "The name was misspelt."}, {"reissue-reason": REASON},
        stored=work.reissue_stored, shown=work.verify_shown, patches=work.ONE_PDF,
    ),
    FormSpec(
        "certificates.issuer", "admin",
        lambda role: Env(url="/certificates/issuer", user=make_role(role)),
        lambda env: dict(work.ORGANISATION), dict.fromkeys(work.ORGANISATION, LINE),
        stored=work.organisation_stored, shown=lambda env: "/certificates/issuer",
    ),
    FormSpec(
        "certificates.issuer_signatory", "admin",
        lambda role: work.signatory_setup(role, "/certificates/issuer/signatories/rector"),
        lambda env: dict(work.SIGNATORY), dict.fromkeys(work.SIGNATORY, LINE),
        stored=work.signatory_stored, shown=lambda env: "/certificates/issuer",
    ),
    FormSpec(
        "certificates.issuer_director", "admin",
        lambda role: work.signatory_setup(
            role, "/certificates/issuer/signatories/director/{id}", with_institute=True),
        lambda env: dict(work.SIGNATORY), dict.fromkeys(work.SIGNATORY, LINE),
        stored=work.signatory_stored, shown=lambda env: "/certificates/issuer",
    ),
    FormSpec(
        "certificates.russian_name", "coordinator",
        lambda role: work.russian_name_setup(
            role, "/certificates/manage/applications/{id}/name-ru"),
        lambda env: {"name_ru": "Оуян Нана"}, {"name_ru": LINE},
        stored=work.russian_name_stored,
        shown=lambda env: f"/certificates/manage/intakes/{env.rows['application'].intake_id}",
    ),
    FormSpec(
        "dashboard.bulk_email", "coordinator", work.bulk_email_setup, work.bulk_email_baseline,
        {"subject": LINE, "body": MULTI}, stored=work.bulk_email_stored,
    ),
    FormSpec(
        "dashboard.bulk_email", "coordinator", work.bulk_email_setup,
        lambda env: {**work.bulk_email_baseline(env), "action": "preview"},
        {"subject": LINE, "body": MULTI}, previews=True, baseline_status=200,
        name="bulk-email-preview",
    ),
    FormSpec(
        "progress.roster", "coordinator", work.roster_setup, work.roster_baseline,
        {"h-{app}-{module}": CELL, "r-{app}-{module}": CELL, "f-{app}": CELL, "stamp": HIDDEN},
    ),
    FormSpec(
        "progress.roster_import", "coordinator", work.import_setup, lambda env: {},
        {"file": CSV_FILE}, files=work.import_files, previews=True, baseline_status=200,
    ),
    FormSpec(
        "progress.roster_import_confirm", "coordinator", work.import_confirm_setup,
        work.import_confirm_baseline, {"content": CSV_TEXT, "stamp": HIDDEN},
    ),
    FormSpec(
        "progress.rules", "coordinator", work.rules_setup,
        lambda env: {"min_attendance_percent": "80", "final_kind": "score",
                     "max_score": "100", "pass_mark": "60"},
        {"min_attendance_percent": NUMBER, "max_score": NUMBER, "pass_mark": NUMBER,
         "final_kind": CHOICE},
    ),
    FormSpec(
        "progress.schedule", "coordinator", work.schedule_setup, work.schedule_baseline,
        {"modules-0-starts_on": DATE, "modules-0-module_id": NUMBER},
    ),
    # forms read from the query string: searches and filters
    FormSpec(
        "enrollment.review_queue", "coordinator", work.queue_get_setup, lambda env: {},
        {"q": LINE, "program": CHOICE, "status": CHOICE, "sort": CHOICE, "page": NUMBER},
        method="GET", name="review-queue-filters",
    ),
    FormSpec(
        "certificates.verify", None, work.verify_setup, lambda env: {}, {"q": LINE}, method="GET",
    ),
    # a file and nothing typed: every kind of file is in tests/certificates/test_verify_file.py;
    # the answer is the page (200), for a PDF that is no certificate too
    FormSpec(
        "certificates.verify_file", None, lambda role: Env(url="/verify/file"), lambda env: {},
        {}, files=lambda env: {"file": (b"%PDF-1.4\n%%EOF\n", "certificate.pdf")}, previews=True,
        baseline_status=200,
    ),
    # a credential pasted: every kind of answer is in tests/certificates/test_credentials.py;
    # the answer is the page (200), for text that is no credential too
    FormSpec(
        "certificates.verify_credential", None, lambda role: Env(url="/verify/credential"),
        lambda env: {"credential": "a.b.c"}, {"credential": REASON}, previews=True,
        baseline_status=200,
    ),
    FormSpec(
        "dashboard.index", "coordinator", work.dashboard_get_setup, lambda env: {},
        {"program": CHOICE, "funding": CHOICE, "submitted_from": DATE}, method="GET",
    ),
    FormSpec(
        "dashboard.audit", "coordinator", work.audit_get_setup, lambda env: {},
        {"teacher": LINE, "actor": CHOICE, "action": CHOICE, "date_from": DATE, "page": NUMBER},
        method="GET",
    ),
]

#: POST endpoints with no field a person types text into, and where they are covered
EXCLUDED = {
    # a button: the access tests and tests/accounts cover it
    "accounts.logout": "a button, no fields",
    # its only text is next=, which test_links_mail_uploads covers
    "accounts.set_language": "language is a choice; next= is in test_links_mail_uploads",
    # the is_open switch: anything but 0 or 1 is a 400
    "catalog.manage_intake_open": "a switch, no text",
    "certificates.issue": "a button, no fields",
    "certificates.issue_all": "a button, no fields",
    "certificates.ask_profiles": "a button, no fields",
    # checkboxes of certificate ids: anything but the listed ids is ignored (its own tests)
    "certificates.credited_hours": "checkboxes of listed ids, no text",
    "enrollment.withdraw": "a confirmation button, no fields",
    "enrollment.confirm_seat": "a button, no fields (tests/enrollment/test_confirmation.py)",
    "progress.close_intake": "a confirmation button, no fields",
    "certificates.resume_batch": "a button, no fields",
    "partners.disable": "a confirmation button, no fields",
    "calendar.reset": "a button, no fields",
    # checkboxes and next= (safe_next); tests/accounts/test_consent.py posts hostile next= values
    "accounts.consent_page": "checkboxes and a return address, no text",
    "accounts.withdraw_consent": "a button naming a consent; any other value is a 400",
    # the passkey is in the address; another person's is a 404 (tests/accounts/test_passkeys.py)
    "accounts.remove_passkey": "a button, no fields",
    "privacy.request_own_export": "a button, no fields",
    "privacy.cancel_erasure": "a button, no fields",
    # the request is in the address (tests/privacy/test_erasure.py)
    "privacy.confirm_erasure": "a button, no fields",
}
