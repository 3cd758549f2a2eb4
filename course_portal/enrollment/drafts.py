"""The teacher's draft of an application, and what keeps it from being submitted.

Split from services.py, which re-exports these names: save_draft() creates or changes a draft
(drafts are the teacher's unfinished work and leave no audit row), submission_problems() says
what is missing before transition() lets it become submitted. Nothing here imports services.
"""

from __future__ import annotations

import unicodedata

from babel.lists import format_list
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import attributes

from course_portal.accounts import consent
from course_portal.accounts.models import Role, User
from course_portal.accounts.profile_rules import FOR_APPLYING, missing_for_applying
from course_portal.catalog.models import Intake
from course_portal.core.clock import portal_today
from course_portal.core.i18n import current_language
from course_portal.core.text import normalize_multiline, normalize_text
from course_portal.db import execute_dml, utcnow
from course_portal.enrollment.errors import EnrollmentError, StaleApplication
from course_portal.enrollment.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    DocumentKind,
    FundingSource,
)
from course_portal.extensions import db

S = ApplicationStatus
MOTIVATION_MAX_LENGTH = 5000
FUNDING_OTHER_MAX_LENGTH = 200
DRAFT_FIELDS = frozenset({"motivation", "funding_source", "funding_other", "consent"})


# --- text rules ---------------------------------------------------------------------------


def clean_input(value, field_name: str, max_length: int, multiline: bool = False) -> str:
    """Normalise user text; refuse control characters and over-length text on every database."""
    value = (normalize_multiline if multiline else normalize_text)(value or "")
    allowed = {"\n", "\t"} if multiline else set()
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in value):
        raise EnrollmentError(_l("Remove the invisible control characters."), field=field_name)
    if len(value) > max_length:
        raise EnrollmentError(
            _l("Shorten this to %(max)s characters.", max=max_length), field=field_name
        )
    return value



# --- the draft -----------------------------------------------------------------------------


def _application_of(teacher: User, intake: Intake) -> Application | None:
    return db.session.scalar(
        select(Application).where(
            Application.teacher_id == teacher.id, Application.intake_id == intake.id
        )
    )


def _insert_draft(teacher: User, intake: Intake) -> bool:
    """Insert the draft unless the teacher already has an application there; True if inserted.

    INSERT ... ON CONFLICT DO NOTHING: a double click cannot end in a unique-constraint error.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # another database: the unique constraint holds
        db.session.add(Application(teacher_id=teacher.id, intake_id=intake.id))
        db.session.flush()
        return True
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    inserted_id = db.session.scalar(
        insert(Application)
        .values(teacher_id=teacher.id, intake_id=intake.id, status=S.DRAFT,
                created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["teacher_id", "intake_id"])
        .returning(Application.id)
    )
    return inserted_id is not None


def save_draft(teacher: User, intake: Intake, **fields) -> Application:
    """Create or update the teacher's draft for the intake with motivation, funding and consent.

    fields: motivation, funding_source (a FundingSource value or None), funding_other,
    consent (bool). One application per teacher and intake; only a draft can be changed.
    Raises StaleApplication when the draft was submitted meanwhile (from another tab).
    """
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise TypeError(f"unknown draft fields: {sorted(unknown)}")
    if not teacher.has_role(Role.TEACHER):
        raise EnrollmentError(_l("Only teachers apply to programs."))
    # every input rule first: a refused value leaves no draft behind
    values = _draft_values(fields)
    application = _application_of(teacher, intake)
    if application is None:
        if not intake.is_accepting_on(portal_today()):
            raise EnrollmentError(_window_message(intake))
        inserted = _insert_draft(teacher, intake)
        application = _application_of(teacher, intake)
        # inserted now, or by the request that won the insert (ON CONFLICT waits for it)
        assert application is not None
        if inserted:
            db.session.add(ApplicationEvent(application=application, actor_id=teacher.id,
                                            from_status=None, to_status=S.DRAFT))
    if application.status != S.DRAFT:
        raise EnrollmentError(
            _l("You have already applied to this intake; a submitted application cannot be "
               "changed. There is one application per teacher and intake.")
        )
    if "consent" in fields:
        values["consent_at"] = (application.consent_at or utcnow()) if fields["consent"] else None
    if values.get("funding_source", application.funding_source) != FundingSource.OTHER:
        values["funding_other"] = ""
    values["updated_at"] = utcnow()
    # compare-and-set: the session's copy may be older than a submission from another tab,
    # and a plain UPDATE by id would overwrite what was submitted
    result = execute_dml(
        update(Application)
        .where(Application.id == application.id, Application.status == S.DRAFT)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleApplication(
            _l("This application has already been submitted (from another tab or window, "
               "perhaps), so these changes were not saved. Open it from “My applications” "
               "to see what was sent.")
        )
    for name, value in values.items():
        attributes.set_committed_value(application, name, value)
    # the UPDATE holds the draft's row until this transaction ends, so a request saving the
    # same draft at once (a double click) has committed or waits: the documents it stored are
    # read again, not taken from a list loaded before, which would store each kind twice
    db.session.expire(application, ["documents"])
    db.session.flush()
    return application


def _draft_values(fields: dict) -> dict:
    """The draft's columns from the teacher's input, cleaned; EnrollmentError on a bad value."""
    values: dict = {}
    if "motivation" in fields:
        values["motivation"] = clean_input(fields["motivation"], "motivation",
                                      MOTIVATION_MAX_LENGTH, multiline=True)
    if "funding_source" in fields:
        raw = fields["funding_source"]
        try:
            values["funding_source"] = FundingSource(raw) if raw else None
        except ValueError:
            raise EnrollmentError(_l("Choose a funding source from the list."),
                                  field="funding_source") from None
    if "funding_other" in fields:
        values["funding_other"] = clean_input(fields["funding_other"], "funding_other",
                                         FUNDING_OTHER_MAX_LENGTH)
    return values


def _window_message(intake: Intake):
    """Why the intake does not take applications today: a coordinator closed it, or its dates."""
    if not intake.is_open:
        return _l("A course coordinator has closed applications to this intake.")
    return _l("Applications to this intake are accepted from %(opens)s to %(closes)s.",
              opens=intake.applications_open_on.isoformat(),
              closes=intake.applications_close_on.isoformat())




def submission_problems(application: Application) -> dict[str | None, list]:
    """What keeps the application from being submitted, by form field; empty when nothing."""
    problems: dict[str | None, list] = {}

    def add(name, message):
        problems.setdefault(name, []).append(message)

    if not application.intake.is_accepting_on(portal_today()):
        add(None, _window_message(application.intake))
    missing = missing_for_applying(application.teacher.profile)
    if missing:
        # a list as the reader's language writes one: "A, B and C", "A、B和C", "A, B и C"
        labels = [str(FOR_APPLYING[name]) for name in missing]
        add(None, _l("Complete your profile first (your draft is kept): %(fields)s.",
                     fields=format_list(labels, locale=current_language())))
    if not application.motivation.strip():
        add("motivation", _l("Tell us why you want to take this program."))
    if application.funding_source is None:
        add("funding_source", _l("Choose how your participation is funded."))
    elif application.funding_source == FundingSource.OTHER and not application.funding_other:
        add("funding_other", _l("Say who funds your participation."))
    if application.consent_at is None:
        add("consent", _l("Consent to the processing of your personal data to apply."))
    if consent.missing(application.teacher_id):
        add(None, _l("Give your consent to the processing of your personal data and to its "
                     "transfer to SPbPU in Russia first (your draft is kept): see Consents in "
                     "your profile."))
    for kind in DocumentKind:
        if application.document(kind) is None:
            add(kind.value, _l("Upload this document (PDF, JPEG or PNG)."))
    return problems
