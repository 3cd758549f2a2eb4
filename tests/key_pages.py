"""The pages a first user meets, with the data that fills them: read by the accessibility
sweep in the browser (tests/e2e/test_accessibility.py) and by the HTML validator
(tests/test_valid_html.py), so both look at the same pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake

#: the portal's languages, in the order the sweeps visit them
LANGUAGES = ("en", "zh", "ru")
TEACHER_EMAIL = "ouyang.nana@example.edu.cn"
COORDINATOR_EMAIL = "coordinator@spbstu.ru"


@dataclass
class KeyPages:
    """The key pages' paths by who opens them: a visitor, a teacher, a coordinator."""

    visitor: dict[str, str] = field(default_factory=dict)
    teacher: dict[str, str] = field(default_factory=dict)
    coordinator: dict[str, str] = field(default_factory=dict)

    def by_email(self) -> list[tuple[str | None, dict[str, str]]]:
        """(email to sign in with or None, {page name: path}) for each kind of reader."""
        return [(None, self.visitor), (TEACHER_EMAIL, self.teacher),
                (COORDINATOR_EMAIL, self.coordinator)]


def make_key_pages() -> KeyPages:
    """A programme with a finished intake (a certified teacher) and an open one (a draft and a
    submitted application with its history), a coordinator; committed. Returns the paths."""
    from course_portal.certificates import services as certificates
    from course_portal.enrollment import services as enrollment

    finished = make_finished_intake(title="Spring 2026")
    program = finished.program
    coordinator = factories.make_user(role="coordinator", email=COORDINATOR_EMAIL)
    teacher = factories.make_teacher(
        email=TEACHER_EMAIL, family_name_zh="欧阳", given_name_zh="娜娜",
        family_name_latin="Ouyang", given_name_latin="Nana")
    completed = make_completed(finished, teacher=teacher)
    make_completed(finished)
    certificate = certificates.issue_certificate(completed, coordinator)
    db.session.commit()

    open_intake = factories.make_intake(program, title="Autumn 2027")
    factories.make_application(teacher=teacher, intake=open_intake, status="draft")
    applicant = factories.make_teacher(email="wang.fang@example.edu.cn")
    submitted = factories.make_application(teacher=applicant, intake=open_intake, status="draft")
    enrollment.submit(submitted, applicant)
    db.session.commit()
    from course_portal.privacy import export as exports

    copy = exports.request_export(teacher, actor=teacher)
    db.session.commit()
    exports.build_export(copy.id)
    # the applicant asked for their data to be erased: the coordinator's pages offer to confirm
    from course_portal.privacy.erasure import request_erasure

    request_erasure(applicant, password=factories.PASSWORD)
    db.session.commit()

    return KeyPages(
        visitor={
            "catalog": "/",
            "programme": f"/programs/{program.code}",
            "register": "/register",
            "sign-in": "/login",
            "verify": f"/verify/{certificate.verification_code}",
            # the three ways to check: by number, the PDF, the digital credential
            "check": "/verify",
            "check-yourself": "/verify/how",
            "consent-text": "/consent/transfer_abroad/v1",
        },
        teacher={
            "applications": "/applications",
            "application": f"/applications/{completed.id}",
            "apply": f"/intakes/{open_intake.id}/apply",
            "progress": f"/progress/{completed.id}",
            "certificates": "/certificates",
            "profile": "/profile",
            "data-copy": f"/privacy/exports/{copy.id}",
            "erasure": "/privacy/erasure",
        },
        coordinator={
            "queue": "/review",
            "review": f"/review/applications/{submitted.id}",
            "roster": f"/progress/manage/intakes/{finished.id}/roster",
            "dashboard": "/dashboard",
            "audit": "/dashboard/audit",
            "teacher-data": f"/privacy/teachers/{applicant.id}",
            "erasures": "/privacy/erasures",
        },
    )
