"""What an application's statuses, funding sources and documents are called, in one place.

Each has two voices on purpose: the badge or column staff read ("Waitlisted", "Home
university") and the words a sentence or the teacher's own form needs ("on the waiting
list", "My home university"). Every page, email, filter and export takes them from here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from course_portal.enrollment.models import (
    Application,
    ApplicationStatus,
    DocumentKind,
    FundingSource,
)

S = ApplicationStatus

#: a status as a badge, a filter choice and an export cell
STATUS_NAMES = {
    S.DRAFT: _l("Draft"),
    S.SUBMITTED: _l("Submitted"),
    S.WAITLISTED: _l("Waitlisted"),
    S.APPROVED: _l("Approved"),
    S.ENROLLED: _l("Enrolled"),
    S.COMPLETED: _l("Completed"),
    S.NOT_COMPLETED: _l("Not completed"),
    S.REJECTED: _l("Rejected"),
    S.WITHDRAWN: _l("Withdrawn"),
}
#: how a status reads in a sentence ("An application that is ... cannot become ...")
STATUS_LABELS = {
    S.DRAFT: _l("a draft"),
    S.SUBMITTED: _l("submitted"),
    S.APPROVED: _l("approved"),
    S.WAITLISTED: _l("on the waiting list"),
    S.REJECTED: _l("rejected"),
    S.WITHDRAWN: _l("withdrawn"),
    S.ENROLLED: _l("enrolled"),
    S.COMPLETED: _l("completed"),
    S.NOT_COMPLETED: _l("not completed"),
}
#: a funding source as staff read it: the queue's column, filter and exports
FUNDING_NAMES = {
    FundingSource.SELF_FUNDED: _l("Self-funded"),
    FundingSource.HOME_UNIVERSITY: _l("Home university"),
    FundingSource.MOE_CHINA: _l("Ministry of Education of China program"),
    FundingSource.OTHER: _l("Other"),
}
#: the same, as the teacher picks it on the application form
FUNDING_CHOICES_FOR_TEACHERS = {
    FundingSource.SELF_FUNDED: _l("Self-funded"),
    FundingSource.HOME_UNIVERSITY: _l("My home university"),
    FundingSource.MOE_CHINA: _l("A program of the Ministry of Education of China"),
    FundingSource.OTHER: _l("Other"),
}


def status_name(status) -> str:
    """The status as a badge reads: Submitted, Waitlisted, ..."""
    return STATUS_NAMES.get(S(status), str(status)) if status else ""


def status_label(status: ApplicationStatus | str | None):
    """The status as words in a sentence, in the reader's language."""
    return STATUS_LABELS.get(ApplicationStatus(status), str(status)) if status else ""


def funding_name(application: Application) -> str:
    """The funding source in words; "Other" carries the teacher's own words."""
    source = application.funding_source
    if source is None:
        return ""
    if source == FundingSource.OTHER and application.funding_other:
        return f"{FUNDING_NAMES[source]}: {application.funding_other}"
    return str(FUNDING_NAMES[source])


def staff_funding_choices() -> list[tuple[str, str]]:
    """Each funding source as (value, label), as staff filter by it."""
    return [(source.value, FUNDING_NAMES[source]) for source in FundingSource]


def teacher_funding_choices() -> list[tuple[str, str]]:
    """Each funding source as (value, label), as the teacher's form offers it."""
    return [(source.value, FUNDING_CHOICES_FOR_TEACHERS[source]) for source in FundingSource]


def document_labels() -> dict[str, str]:
    """The documents an application needs, by kind, as the teacher reads them."""
    return {
        DocumentKind.DIPLOMA.value: _l("Diploma"),
        DocumentKind.PASSPORT.value: _l("Passport page with your photo"),
        DocumentKind.CV.value: _l("CV"),
    }
