"""Demo applications: one in each status on the IE intake, made through the real services.

Each goes through save_draft, store_document, submit and the coordinator's decision, so its
history, seats and documents are what the portal itself would have made. Only applications
that are missing are created: a demo teacher's application that exists, whatever its status
now, is left as its person or a coordinator made it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw
from sqlalchemy import func, select, update

from course_portal.accounts.models import Role, User
from course_portal.accounts.profile_rules import missing_for_applying
from course_portal.catalog.models import Intake, Program
from course_portal.core.clock import portal_today
from course_portal.core.outbox import OutboxMessage
from course_portal.db import utcnow
from course_portal.enrollment import services
from course_portal.enrollment.documents import store_document
from course_portal.enrollment.errors import NoSeatLeft
from course_portal.enrollment.models import Application, ApplicationStatus, DocumentKind
from course_portal.extensions import db

if TYPE_CHECKING:
    from course_portal.ops.demo import DemoSummary

S = ApplicationStatus

#: the program whose first intake gets the demo applications
PROGRAM_CODE = "IE"
#: the demo coordinator, who decides on them
COORDINATOR_EMAIL = "coordinator@example.com"

#: a one-page PDF saying what it is; the xref offsets are exact (a test opens it with pypdf)
DEMO_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n"
    b"4 0 obj\n<< /Length 60 >>\nstream\n"
    b"BT /F1 20 Tf 72 760 Td (Demo document: not a real one) Tj ET\nendstream\nendobj\n"
    b"5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n"
    b"xref\n0 6\n"
    b"0000000000 65535 f \n"
    b"0000000009 00000 n \n"
    b"0000000058 00000 n \n"
    b"0000000115 00000 n \n"
    b"0000000241 00000 n \n"
    b"0000000351 00000 n \n"
    b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n421\n%%EOF\n"
)


def demo_png() -> bytes:
    """A small grey card standing in for a passport scan."""
    image = Image.new("RGB", (320, 200), "#e8edf3")
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 307, 187), outline="#5b6b7f", width=3)
    draw.rectangle((28, 40, 108, 150), fill="#c3ccd8")
    draw.text((128, 60), "DEMO PASSPORT PAGE", fill="#2d3a4a")
    draw.text((128, 90), "not a real document", fill="#2d3a4a")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class DemoApplication:
    """One demo teacher's application and where the coordinator leaves it."""

    email: str
    status: ApplicationStatus
    motivation: str
    funding_source: str
    reason: str = ""


#: in the order they are made: the waiting list and the queue's default sort follow it
APPLICATIONS = [
    DemoApplication(
        "wang.fang@example.com", S.APPROVED,
        "我在天水师范学院讲授公司金融和投资学。希望系统了解投资生态系统的运作，"
        "并把中俄投资合作的案例引入本科课堂。",
        "moe_china",
    ),
    DemoApplication(
        "ouyang.nana@example.com", S.SUBMITTED,
        "作为经济管理学院系主任，我负责修订金融学专业的培养方案，"
        "希望借鉴圣彼得堡理工大学在风险投资和项目评估方面的课程设计。",
        "home_university",
    ),
    DemoApplication(
        "chen.hao@example.com", S.SUBMITTED,
        "I teach investment analysis to third-year students and supervise their graduation "
        "projects. I would like to bring real venture financing cases into my course.",
        "self_funded",
    ),
    DemoApplication(
        "zhang.jing@example.com", S.WAITLISTED,
        "Я преподаю русский язык студентам-экономистам и веду курс делового русского. "
        "Программа поможет мне говорить с ними об инвестициях на их профессиональном языке.",
        "home_university",
        reason="Places go first to teachers of economics and finance; you are on the waiting "
               "list and will be told at once if a place frees up.",
    ),
    DemoApplication(
        "li.wei@example.com", S.REJECTED,
        "我教授计算机网络和电子商务系统，希望了解金融科技背后的投资逻辑。",
        "home_university",
        reason="This program is for teachers of economics, finance and management. The "
               "Intellectual Systems program matches your department: you are welcome to "
               "apply to it.",
    ),
    DemoApplication(
        # left unfinished: consent not given yet, so the teacher sees what is still missing
        "liu.yang@example.com", S.DRAFT,
        "I assist in the digital economy course and want to",
        "home_university",
    ),
]


def _demo_intake() -> Intake | None:
    """The first intake of the demo program: the one demo-data created."""
    return db.session.scalar(
        select(Intake).join(Program).where(Program.code == PROGRAM_CODE).order_by(Intake.id)
        .limit(1)
    )


def can_apply(teacher: User | None) -> bool:
    """An enabled teacher whose profile is complete enough to submit."""
    if teacher is None or not teacher.is_enabled or not teacher.has_role(Role.TEACHER):
        return False
    return not missing_for_applying(teacher.profile)


def demo_documents(teacher: User) -> list[tuple[DocumentKind, str, bytes]]:
    assert teacher.profile is not None  # only teachers who can apply get documents
    stem = teacher.profile.name_latin.lower().replace(" ", "-")
    return [
        (DocumentKind.DIPLOMA, f"{stem}-diploma.pdf", DEMO_PDF),
        (DocumentKind.PASSPORT, f"{stem}-passport.png", demo_png()),
        (DocumentKind.CV, f"{stem}-cv.pdf", DEMO_PDF),
    ]


def _make(spec: DemoApplication, teacher: User, intake: Intake, coordinator: User) -> None:
    """One application, through the services a teacher's and a coordinator's pages call."""
    application = services.save_draft(
        teacher, intake, motivation=spec.motivation, funding_source=spec.funding_source,
        consent=spec.status != S.DRAFT,
    )
    for kind, filename, data in demo_documents(teacher):
        store_document(application, kind, filename, io.BytesIO(data), actor=teacher)
    if spec.status == S.DRAFT:
        return
    services.submit(application, teacher)
    if spec.status == S.APPROVED:
        try:
            services.approve(application, coordinator)
        except NoSeatLeft:  # a coordinator filled the intake: the list is the next best
            services.waitlist(application, coordinator)
    elif spec.status == S.WAITLISTED:
        services.waitlist(application, coordinator, spec.reason)
    elif spec.status == S.REJECTED:
        services.reject(application, coordinator, spec.reason)


def load_demo_applications(summary: DemoSummary) -> None:
    """Create the demo applications that are missing, counting them and noting what is not."""
    created, present, notes = summary.created, summary.present, summary.notes
    intake = _demo_intake()
    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    if intake is None or coordinator is None or not coordinator.has_role(Role.COORDINATOR):
        notes.append("demo applications not created: the demo intake or coordinator is missing")
        return
    teachers = {user.email: user for user in db.session.scalars(
        select(User).where(User.email.in_([spec.email for spec in APPLICATIONS])))}
    applied = set(db.session.scalars(
        select(Application.teacher_id).where(Application.intake_id == intake.id)))
    missing: list[tuple[DemoApplication, User]] = []
    for spec in APPLICATIONS:
        teacher = teachers.get(spec.email)
        if teacher is not None and teacher.id in applied:
            present["applications"] += 1
        elif teacher is not None and can_apply(teacher):
            missing.append((spec, teacher))
        else:
            notes.append(f"demo application of {spec.email} not created: the account is "
                         "missing, disabled or its profile incomplete")
    if not missing:
        return
    if not intake.is_accepting_on(portal_today()):
        notes.append(f"{len(missing)} demo applications not created: the intake "
                     f"“{intake.title}” no longer accepts applications")
        return
    last_message_id = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    for spec, teacher in missing:
        _make(spec, teacher, intake, coordinator)
        created["applications"] += 1
        created["documents"] += len(DocumentKind)
    # The services queued the emails a real teacher would get. Marked sent, never sent: the
    # addresses are example.com, and a site that configures SMTP later must not mail a burst
    # of demo notices. attempts stays 0, which tells them from messages really sent.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id > last_message_id, OutboxMessage.sent_at.is_(None),
               OutboxMessage.to_address.in_([teacher.email for _, teacher in missing]))
        .values(sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
