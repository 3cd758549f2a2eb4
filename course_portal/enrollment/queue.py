"""The coordinators' review queue: filters, search, sort and pages, and one decision."""

# Every function here reads but decide(), which changes a status through transition(); the
# exports are in queue_export.py. A queue page costs the same few queries whatever the number
# of applications: the teacher, profile, partner, intake and program come in the page's one
# joined SELECT, and the number of documents as a correlated subquery of it.

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Generic, NamedTuple, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import contains_eager, defer, load_only

from course_portal.accounts.models import TeacherProfile, User
from course_portal.catalog.models import Intake, PartnerUniversity, Program
from course_portal.enrollment import services
from course_portal.enrollment.errors import EnrollmentError, StaleApplication
from course_portal.enrollment.labels import status_label
from course_portal.enrollment.models import Application, ApplicationStatus, Document, FundingSource
from course_portal.extensions import db

S = ApplicationStatus
PER_PAGE = 50
#: the status filter's default: what still waits for a coordinator
NEEDS_DECISION = "needs_decision"
ALL = "all"
PENDING = (S.SUBMITTED, S.WAITLISTED)
#: drafts are the teacher's unfinished work: the queue never shows them
REVIEWABLE = (
    S.SUBMITTED, S.WAITLISTED, S.APPROVED, S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED,
    S.REJECTED, S.WITHDRAWN,
)

DEFAULT_SORT = "submitted"
SORTS = {
    "submitted": _l("Submitted, oldest first"),
    "newest": _l("Submitted, newest first"),
    "name": _l("Name in Latin letters"),
    "status": _l("Status"),
    "partner": _l("Partner university"),
}
#: a search of more words than this uses the first ones
SEARCH_MAX_TERMS = 5


@dataclass(frozen=True)
class QueueFilters:
    """What the coordinator asked to see, in what order."""

    program_id: int | None = None
    intake_id: int | None = None
    #: NEEDS_DECISION, ALL or one status value
    status: str = NEEDS_DECISION
    partner_id: int | None = None
    #: a FundingSource value, or None for any
    funding: str | None = None
    search: str = ""
    sort: str = DEFAULT_SORT

    def statuses(self) -> tuple[ApplicationStatus, ...]:
        """The statuses to show; an unknown value shows what needs a decision."""
        if self.status == ALL:
            return REVIEWABLE
        if self.status in {s.value for s in REVIEWABLE}:
            return (S(self.status),)
        return PENDING

    def query_args(self) -> dict[str, str | int]:
        """The filters that differ from the defaults, as URL query arguments."""
        args: dict[str, str | int] = {}
        for name, value, default in (
            ("q", self.search, ""),
            ("program", self.program_id, None),
            ("intake", self.intake_id, None),
            ("status", self.status, NEEDS_DECISION),
            ("partner", self.partner_id, None),
            ("funding", self.funding, None),
            ("sort", self.sort, DEFAULT_SORT),
        ):
            if value != default and value not in ("", None):
                args[name] = value
        return args


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased, each to be found in a name or the email."""
    terms: list[str] = []
    for word in (text or "").lower().split():
        if word not in terms:
            terms.append(word)
    return terms[:SEARCH_MAX_TERMS]


def _joined(stmt: Select) -> Select:
    """The tables a queue row shows and filters on, joined to the applications."""
    return (
        stmt.select_from(Application)
        .join(Intake, Intake.id == Application.intake_id)
        .join(Program, Program.id == Intake.program_id)
        .join(User, User.id == Application.teacher_id)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(PartnerUniversity, PartnerUniversity.id == TeacherProfile.partner_university_id)
    )


def _term_matches(term: str):
    """One search word, found in 汉字 (family + given), in pinyin, or in the email."""
    # pinyin: either part, or both run together ("ouyangnana"); emails are stored lower-cased;
    # autoescape makes % and _ in the word plain characters
    latin_family = func.lower(TeacherProfile.family_name_latin)
    latin_given = func.lower(TeacherProfile.given_name_latin)
    return or_(
        (TeacherProfile.family_name_zh + TeacherProfile.given_name_zh).contains(
            term, autoescape=True),
        latin_family.contains(term, autoescape=True),
        latin_given.contains(term, autoescape=True),
        func.lower(TeacherProfile.family_name_latin + TeacherProfile.given_name_latin).contains(
            term, autoescape=True),
        User.email.contains(term, autoescape=True),
    )


def filtered(stmt: Select, filters: QueueFilters, joined: bool = True) -> Select:
    """The statement joined and narrowed to the filters.

    joined=False joins only what the filters read (a count): with no programme, university or
    search filter the queue's count reads the applications' index alone.
    """
    if joined:
        stmt = _joined(stmt)
    else:
        stmt = stmt.select_from(Application)
        if filters.program_id is not None:
            stmt = stmt.join(Intake, Intake.id == Application.intake_id)
        if filters.search:
            stmt = stmt.join(User, User.id == Application.teacher_id)
        if filters.partner_id is not None or filters.search:
            stmt = stmt.outerjoin(TeacherProfile,
                                  TeacherProfile.user_id == Application.teacher_id)
    stmt = stmt.where(Application.status.in_(filters.statuses()))
    if filters.program_id is not None:
        stmt = stmt.where(Intake.program_id == filters.program_id)
    if filters.intake_id is not None:
        stmt = stmt.where(Application.intake_id == filters.intake_id)
    if filters.partner_id is not None:
        stmt = stmt.where(TeacherProfile.partner_university_id == filters.partner_id)
    if filters.funding:
        try:
            stmt = stmt.where(Application.funding_source == FundingSource(filters.funding))
        except ValueError:
            pass  # an unknown source filters nothing out, like an unknown status
    for term in search_terms(filters.search):
        stmt = stmt.where(_term_matches(term))
    return stmt


#: the order of the "status" sort: the undecided first, as the work goes
_STATUS_ORDER = case(
    {status: position for position, status in enumerate(REVIEWABLE)},
    value=Application.status,
    else_=len(REVIEWABLE),
)


def _partner_name(language: str):
    """The partner's name in the reader's language, else in English (as the page shows it)."""
    column = getattr(PartnerUniversity, f"name_{language}", PartnerUniversity.name_en)
    return func.coalesce(func.nullif(column, ""), PartnerUniversity.name_en)


def ordering(filters: QueueFilters, language: str) -> tuple:
    """ORDER BY for the sort; every order ends with the id, so pages never overlap."""
    oldest = (Application.submitted_at, Application.id)
    if filters.sort == "newest":
        return Application.submitted_at.desc(), Application.id.desc()
    if filters.sort == "name":
        return (TeacherProfile.id.is_(None), func.lower(TeacherProfile.family_name_latin),
                func.lower(TeacherProfile.given_name_latin), Application.id)
    if filters.sort == "status":
        return (_STATUS_ORDER, *oldest)
    if filters.sort == "partner":
        # teachers without a partner last, on both databases (their NULL order differs)
        return (PartnerUniversity.id.is_(None), _partner_name(language), *oldest)
    return oldest


def row_loading(motivation: bool = False) -> tuple:
    """Fill each row's intake, program, teacher, profile and partner from the joined SELECT.

    The long texts no row shows stay in the database: the motivation (up to 10,000
    characters) unless asked for, the reason, and the program's descriptions, which the
    joined SELECT would otherwise carry once per row.
    """
    return (
        *(() if motivation else (defer(Application.motivation),)),
        defer(Application.reason),
        contains_eager(Application.intake).contains_eager(Intake.program)
        .defer(Program.description_en).defer(Program.description_zh)
        .defer(Program.description_ru),
        contains_eager(Application.teacher)
        .contains_eager(User.profile)
        .contains_eager(TeacherProfile.partner_university),
    )


def page_loading() -> tuple:
    """The columns a queue page's rows show (enrollment/queue_rows.py), filled from the
    joined SELECT: the rest of five tables' rows, their moments converted one by one, was a
    fifth of the page's time."""
    return (
        load_only(Application.teacher_id, Application.intake_id, Application.status,
                  Application.submitted_at, Application.funding_source,
                  Application.funding_other),
        contains_eager(Application.intake).load_only(
            Intake.program_id, Intake.title, Intake.title_zh, Intake.title_ru)
        .contains_eager(Intake.program).load_only(Program.code),
        contains_eager(Application.teacher).load_only(User.email)
        .contains_eager(User.profile).load_only(
            TeacherProfile.user_id, TeacherProfile.family_name_zh,
            TeacherProfile.given_name_zh, TeacherProfile.family_name_latin,
            TeacherProfile.given_name_latin, TeacherProfile.name_ru,
            TeacherProfile.partner_university_id)
        .contains_eager(TeacherProfile.partner_university).load_only(
            PartnerUniversity.name_en, PartnerUniversity.name_zh, PartnerUniversity.name_ru),
    )


class QueueRow(NamedTuple):
    """One row of the queue: the application and how many documents it has."""

    application: Application
    documents: int


RowT = TypeVar("RowT")


@dataclass
class QueuePage(Generic[RowT]):
    """One page of the queue (or of another paged list) and where it sits among the others."""

    rows: list[RowT]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filtered queue has (at least one, maybe empty)."""
        return max(ceil(self.total / self.per_page), 1)

    @property
    def first(self) -> int:
        """The position of the page's first row among all the rows, from 1."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """The position of the page's last row."""
        return self.first + len(self.rows) - 1 if self.rows else 0

    def page_numbers(self, around: int = 2) -> list[int | None]:
        """The page links to show: first, last and a few around this one; None is a gap."""
        wanted = {1, self.pages, *range(self.page - around, self.page + around + 1)}
        numbers: list[int | None] = []
        for number in sorted(n for n in wanted if 1 <= n <= self.pages):
            if numbers and number - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(number)
        return numbers


def queue_page(
    filters: QueueFilters, page: int = 1, per_page: int = PER_PAGE, language: str = "en"
) -> QueuePage[QueueRow]:
    """One page of the filtered, sorted queue; a page past the end shows the last one."""
    total = db.session.scalar(
        filtered(select(func.count(Application.id)), filters, joined=False)) or 0
    page = min(max(page, 1), max(ceil(total / per_page), 1))
    documents = (
        select(func.count(Document.id))
        .where(Document.application_id == Application.id)
        .correlate(Application)
        .scalar_subquery()
    )
    stmt = (
        filtered(select(Application, documents), filters)
        .options(*page_loading())
        .order_by(*ordering(filters, language))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = [QueueRow(application, count) for application, count in db.session.execute(stmt)]
    return QueuePage(rows=rows, total=total, page=page, per_page=per_page)


def application_labels(application_ids) -> dict[int, str]:
    """Each application named as in a message: № 12 王小明 (WANG Xiaoming)."""
    ids = list(application_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Application.id, TeacherProfile)
        .join(User, User.id == Application.teacher_id)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(Application.id.in_(ids))
    )
    labels = {}
    for application_id, profile in rows:
        name = f" {profile.name_zh} ({profile.name_latin})" if profile is not None else ""
        labels[application_id] = f"№ {application_id}{name}"
    return labels


# --- deciding -------------------------------------------------------------------------------


def _changed_meanwhile(status: ApplicationStatus):
    """The message for a decision made on a status that is no longer the application's."""
    return _l("Someone else changed this application meanwhile (it is now %(status)s). "
              "Reload the page and decide again.", status=status_label(status))


def decide(
    application: Application,
    decision: str,
    actor: User,
    reason: str = "",
    seen_status: str | None = None,
) -> Application:
    """Approve, waitlist or reject one application, refused as stale if it changed since seen."""
    # seen_status is the status the coordinator's page showed. Without this check, a "reject"
    # meant for a submitted application would revoke a colleague's approval made meanwhile.
    if decision not in {s.value for s in services.DECISIONS}:
        raise EnrollmentError(_l("Choose approve, waiting list or reject."), field="decision")
    if seen_status and seen_status != application.status.value:
        raise StaleApplication(_changed_meanwhile(application.status))
    return services.transition(application, decision, actor, reason)


def bulk_decide(
    seen: dict[int, str],
    decision: str,
    actor: User,
    reason: str = "",
) -> services.BulkOutcome:
    """services.bulk_decide on those still in the status the page showed; the others fail."""
    # seen maps an application id to the status shown on the queue page ("" when unknown).
    # Checked just before deciding, this narrows the window in which a bulk "reject" could
    # revoke a colleague's approval from the page's age to a few milliseconds.
    current = dict(db.session.execute(
        select(Application.id, Application.status).where(Application.id.in_(list(seen)))
    ).all())
    changed = {
        application_id for application_id, status in seen.items()
        if status and application_id in current and current[application_id].value != status
    }
    outcome = services.bulk_decide(
        [application_id for application_id in seen if application_id not in changed],
        decision, actor, reason,
    )
    for application_id in sorted(changed):
        outcome.failed[application_id] = _changed_meanwhile(current[application_id])
    return outcome
