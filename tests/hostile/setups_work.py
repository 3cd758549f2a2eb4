"""Setups of the hostile-input registry: applications, reviews, certificates, dashboard, progress.

For each form: `<form>_setup(role)` creates fresh rows and returns the Env, `<form>_baseline(env)`
a valid filling, `<form>_stored(env, field)` reads back what was saved, `<form>_shown(env)` the
path of a page that shows it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from course_portal.core.clock import portal_today
from course_portal.extensions import db
from tests import factories
from tests.hostile.conftest import make_role
from tests.hostile.spec import Env, commit, new_code, unique

# --- enrollment -------------------------------------------------------------------------------

def apply_setup(role):
    teacher = make_role(role)
    intake = commit(factories.make_intake(factories.make_program(code=new_code())))
    return Env(url=f"/intakes/{intake.id}/apply", user=teacher, rows={"intake": intake})


def apply_baseline(env: Env) -> dict:
    return {"motivation": "I teach economics.", "funding_source": "other",
            "funding_other": "Harbin city grant", "consent": "y", "save": "1"}


def application_of(env: Env):
    from course_portal.enrollment.models import Application

    db.session.expire_all()
    return db.session.scalar(select(Application).where(
        Application.teacher_id == env.user.id,
        Application.intake_id == env.rows["intake"].id))


def apply_stored(env: Env, name: str):
    application = application_of(env)
    return getattr(application, name) if application is not None else None


def apply_shown(env: Env) -> str:
    return f"/applications/{application_of(env).id}"


def apply_profile_gaps_setup(role):
    """An older account without department or position: the apply page asks for both."""
    env = apply_setup(None)
    env.user = commit(factories.make_teacher(department="", position=""))
    return env


def apply_profile_gaps_baseline(env: Env) -> dict:
    return {**apply_baseline(env), "department": "School of Economics", "position": "Lecturer"}


def apply_profile_gaps_stored(env: Env, name: str):
    db.session.expire_all()
    return getattr(env.user.profile, name)


def submitted_setup(role):
    coordinator = make_role(role)
    application = commit(factories.make_application(status="submitted"))
    return Env(url="", user=coordinator, rows={"application": application})


def queue_setup(role):
    env = submitted_setup(role)
    env.url = "/review"
    return env


def queue_baseline(env: Env) -> dict:
    return {"ids": f"{env.rows['application'].id}:submitted", "reason": "No seat left.",
            "reject": "1"}


def decide_setup(role):
    env = submitted_setup(role)
    env.url = f"/review/applications/{env.rows['application'].id}/decide"
    return env


def decide_baseline(env: Env) -> dict:
    return {"seen_status": "submitted", "reason": "No seat left.", "reject": "1"}


def decision_stored(env: Env, name: str):
    from course_portal.enrollment.models import Application, ApplicationStatus

    db.session.expire_all()
    application = db.session.get(Application, env.rows["application"].id)
    return application.reason if application.status == ApplicationStatus.REJECTED else None


def queue_get_setup(role):
    return Env(url="/review", user=make_role(role))


def extend_setup(role):
    """An approved teacher with two days left to confirm the seat; the coordinator extends."""

    coordinator = make_role(role)
    today = portal_today()
    intake = factories.make_intake(factories.make_program(code=new_code()), today=today,
                                   confirm_within_days=3)
    application = commit(factories.make_application(
        intake=intake, status="approved", confirm_by=today + timedelta(days=2)))
    return Env(url=f"/review/applications/{application.id}/confirmation", user=coordinator,
               rows={"application": application})


def extend_baseline(env: Env) -> dict:

    return {"extend-until": (portal_today() + timedelta(days=6)).isoformat(),
            "extend-reason": "Her visa appointment moved to next week."}


def extend_stored(env: Env, name: str):
    from course_portal.core.audit import AuditEvent

    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "application.confirmation_extended",
        AuditEvent.object_id == env.rows["application"].id).order_by(AuditEvent.id.desc()))
    return event.details["reason"] if event is not None else None


# --- certificates -----------------------------------------------------------------------------

#: a certificate's PDF, rendered once: the reasons typed here are not printed on it, and
#: WeasyPrint's ~100 ms per certificate would be a third of the suite's time
_PDF: list[bytes] = []


def render_once(snapshot, code: str, images=None) -> tuple[bytes, bool]:
    from course_portal.certificates.pdf import render_certificate

    if not _PDF:
        _PDF.append(render_certificate(snapshot, "http://portal.test/verify/" + code, images))
    return _PDF[0], False


ONE_PDF = (("course_portal.certificates.pdfs", "_render", render_once),)


def certificate_setup(role, url: str):
    from course_portal.certificates import services
    from tests.certificates.helpers import make_completed, make_finished_intake


    coordinator = make_role(role)
    intake = make_finished_intake(code=new_code("C"))
    application = make_completed(intake)
    certificate = commit(services.issue_certificate(application, coordinator))
    return Env(url=url.format(id=certificate.id), user=coordinator,
               rows={"certificate": certificate, "application": application})


def revoke_stored(env: Env, name: str):
    from course_portal.certificates.models import Certificate

    db.session.expire_all()
    return db.session.get(Certificate, env.rows["certificate"].id).revoked_reason or None


def reissue_stored(env: Env, name: str):
    from course_portal.certificates.models import Certificate

    db.session.expire_all()
    new = db.session.scalar(select(Certificate).where(
        Certificate.replaces_id == env.rows["certificate"].id))
    return new.reissue_reason if new is not None else None


def verify_shown(env: Env) -> str:
    from course_portal.certificates.models import Certificate

    db.session.expire_all()
    new = db.session.scalar(select(Certificate).where(
        Certificate.replaces_id == env.rows["certificate"].id))
    return f"/verify/{(new or env.rows['certificate']).verification_code}"


def verify_setup(role):
    return Env(url="/verify", user=None)


# --- dashboard --------------------------------------------------------------------------------

def bulk_email_setup(role):
    coordinator = make_role(role)
    application = commit(factories.make_application(status="enrolled"))
    return Env(url="/dashboard/email", user=coordinator,
               rows={"intake_id": application.intake_id, "teacher": application.teacher})


def bulk_email_baseline(env: Env) -> dict:
    return {"audience": "enrolled", "program": "", "intake": str(env.rows["intake_id"]),
            "partner": "", "funding": "", "subject": "Classes start on Monday",
            "body": "Dear colleagues,\nsee you soon.", "action": "send"}


def bulk_email_stored(env: Env, name: str):
    from course_portal.core.outbox import OutboxMessage

    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == env.rows["teacher"].email,
        OutboxMessage.kind == "dashboard.bulk")).first()
    if message is None:
        return None
    if name == "subject":
        return message.subject
    # the template adds a greeting and a signature around the body
    return message.body_text


def dashboard_get_setup(role):
    return Env(url="/dashboard", user=make_role(role))


def audit_get_setup(role):
    return Env(url="/dashboard/audit", user=make_role(role))


# --- progress ---------------------------------------------------------------------------------

def roster_setup(role):
    coordinator = make_role(role)
    today = portal_today()
    program = factories.make_program(code=new_code(), hours=(8,))
    intake = factories.make_intake(
        program, applications_open_on=today - timedelta(days=120),
        applications_close_on=today - timedelta(days=70),
        starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=30))
    application = commit(factories.make_application(intake=intake, status="enrolled"))
    from course_portal.progress import grid

    stamp = grid.roster_stamp(intake)
    return Env(url=f"/progress/manage/intakes/{intake.id}/roster", user=coordinator,
               rows={"app": application.id, "module": program.modules[0].id, "stamp": stamp,
                     "intake": intake, "program": program, "application": application})


def roster_baseline(env: Env) -> dict:
    app, module = env.rows["app"], env.rows["module"]
    return {"stamp": env.rows["stamp"], f"h-{app}-{module}": "8",
            f"r-{app}-{module}": "passed", f"f-{app}": "passed"}


def roster_csv(env: Env, name: str = "Wang") -> str:
    from course_portal.progress import csv_import, grid

    intake = env.rows["intake"]
    db.session.expire_all()
    template = csv_import.template_csv(grid.load_roster(intake)).lstrip("\ufeff")
    lines = template.split("\r\n")
    # the row's second cell is the family name in Latin letters, informational on import
    row = lines[1].split(",")
    row[1] = '"' + name.replace('"', '""') + '"'
    lines[1] = ",".join(row)
    return "\r\n".join(lines)


def import_setup(role):
    env = roster_setup(role)
    env.url = f"/progress/manage/intakes/{env.rows['intake'].id}/roster/import"
    return env


def import_files(env: Env) -> dict:
    return {"file": (roster_csv(env).encode("utf-8"), "roster.csv")}


def import_confirm_setup(role):
    env = roster_setup(role)
    env.url = f"/progress/manage/intakes/{env.rows['intake'].id}/roster/import/confirm"
    return env


def import_confirm_baseline(env: Env) -> dict:
    return {"content": roster_csv(env), "stamp": env.rows["stamp"]}


def rules_setup(role):
    user = make_role(role)
    program = commit(factories.make_program(code=new_code()))
    return Env(url=f"/progress/manage/programs/{program.id}/rules", user=user)


def schedule_setup(role):
    env = roster_setup(role)
    env.url = f"/progress/manage/intakes/{env.rows['intake'].id}/schedule"
    return env


def schedule_baseline(env: Env) -> dict:
    intake = env.rows["intake"]
    return {"modules-0-module_id": str(env.rows["module"]),
            "modules-0-starts_on": intake.starts_on.isoformat(),
            "modules-0-ends_on": (intake.starts_on + timedelta(days=7)).isoformat()}


# --- who issues and who signs (admins), the Cyrillic name (coordinators) -----------------------

#: a valid filling of the organisation's form
ORGANISATION = {
    "full_name_ru": "ФГАОУ ВО «Санкт-Петербургский политехнический университет Петра Великого»",
    "full_name_en": "Peter the Great St. Petersburg Polytechnic University",
    "full_name_zh": "彼得大帝圣彼得堡理工大学",
    "city_ru": "Санкт-Петербург", "city_en": "Saint Petersburg", "city_zh": "圣彼得堡",
}
#: a valid filling of a signatory's form
SIGNATORY = {
    "name_ru": "Иванов И. И.", "name_en": "Ivan Ivanov", "name_zh": "伊万诺夫",
    "position_ru": "Ректор", "position_en": "Rector", "position_zh": "校长",
    "authority_ru": "", "authority_en": "", "authority_zh": "",
}


def organisation_stored(env: Env, name: str):
    from course_portal.certificates.models import IssuingOrganisation

    db.session.expire_all()
    row = db.session.get(IssuingOrganisation, 1)
    return getattr(row, name) if row is not None else None


def signatory_setup(role, url: str, with_institute: bool = False):
    from course_portal.catalog.models import Institute

    admin = make_role(role)
    rows = {}
    if with_institute:
        institute = Institute(name_en=unique("Signing institute "), name_zh="学院", name_ru="Институт")
        db.session.add(institute)
        db.session.commit()
        rows["institute"] = institute
        url = url.format(id=institute.id)
    return Env(url=url, user=admin, rows=rows)


def signatory_stored(env: Env, name: str):
    from course_portal.certificates.models import Signatory, SignatoryRole

    db.session.expire_all()
    institute = env.rows.get("institute")
    slot = (Signatory.slot_for(SignatoryRole.DIRECTOR, institute.id) if institute
            else SignatoryRole.RECTOR.value)
    row = db.session.scalar(select(Signatory).where(Signatory.slot == slot))
    return getattr(row, name) if row is not None else None


def russian_name_setup(role, url: str):
    from tests.certificates.helpers import make_completed, make_finished_intake

    coordinator = make_role(role)
    application = commit(make_completed(make_finished_intake(code=new_code("N")),
                                        family_name_latin="Ouyang", given_name_latin="Nana"))
    return Env(url=url.format(id=application.id), user=coordinator,
               rows={"application": application})


def russian_name_stored(env: Env, name: str):
    from course_portal.accounts.models import TeacherProfile

    db.session.expire_all()
    return db.session.scalar(select(TeacherProfile.name_ru).where(
        TeacherProfile.user_id == env.rows["application"].teacher_id))
