"""How long applicants' documents are kept, and the timed step that deletes them afterwards.

Two rules, each counted in calendar months from a moment the database already holds:

- **Applications that went nowhere** (DOCUMENT_RETENTION_MONTHS, 12 by default): every
  document of an application that is

  - rejected or withdrawn (a teacher's withdrawal, or a seat the portal released because it
    was not confirmed in time): counted from the move into that status, read from the
    history (ApplicationEvent), or from the application's last change (updated_at) for a row
    that has no such history. Both statuses are final (transition() allows no move out), and
    decided_at is not the moment for a withdrawal: it keeps the earlier decision's time;
  - expired: still a draft, submitted or on the waiting list when its intake's last day has
    passed. Until then a coordinator may reopen the window, approve or promote from the list;
    once the intake has run, nothing takes the application further. Counted from the first
    moment after the intake's last day (a portal day), as the intake's dates are now, so a
    coordinator who moves the end later moves this too.

  Approved applications (they hold a seat), enrolled ones, and those of a closed intake
  (completed or not completed: the teacher was admitted and studied, and the documents are
  the evidence of that admission, kept with the record of the studies) are never touched.

- **Passport pages of certified teachers** (PASSPORT_RETENTION_MONTHS, 6 by default): the
  passport page of an application with a valid (issued) certificate, counted from that
  certificate's issue; a re-issue starts the count again, since a corrected name is checked
  against the passport. Only the passport: the certificate and its registry entry are kept
  (the law asks for the registry), and the diploma and CV stay with them as the evidence
  that the teacher was eligible for the program the certificate attests. A revoked
  certificate certifies nothing, so that application's passport stays.

A setting of 0 turns its rule off. The step commits every BATCH_SIZE documents; each deleted
document gets one audit row (document.deleted, actor None: the portal), naming the rule, the
months and the day the count started. The row is deleted with a compare-and-set, and its file
only after the commit (enrollment.documents.delete_stored), so a document another runner took
first is skipped, and a run after the first finds nothing and audits nothing.
"""

from __future__ import annotations

import calendar
import enum
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Row, Select, and_, func, select

from course_portal.catalog.models import Intake
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core import audit, clock
from course_portal.enrollment import documents
from course_portal.enrollment.models import (
    DOCUMENT_DELETED,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Document,
    DocumentKind,
)
from course_portal.extensions import db

log = logging.getLogger(__name__)

S = ApplicationStatus

#: the audit log's action for one deleted document
ACTION = DOCUMENT_DELETED
#: documents deleted per transaction: a first run on a large database holds no huge one
BATCH_SIZE = 500
#: final statuses in which the application went nowhere
CLOSED_STATUSES = frozenset({S.REJECTED, S.WITHDRAWN})
#: statuses in which an application expires once its intake has ended
EXPIRING_STATUSES = frozenset({S.DRAFT, S.SUBMITTED, S.WAITLISTED})


class Rule(enum.StrEnum):
    """Why a document was deleted, as the audit row names it."""

    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    #: a draft, submitted or waitlisted application of an intake that has ended
    EXPIRED = "expired"
    #: the passport page of a teacher whose certificate was issued
    PASSPORT_AFTER_CERTIFICATE = "passport_after_certificate"


#: the setting that gives each rule its months
SETTING_OF = {
    Rule.REJECTED: "DOCUMENT_RETENTION_MONTHS",
    Rule.WITHDRAWN: "DOCUMENT_RETENTION_MONTHS",
    Rule.EXPIRED: "DOCUMENT_RETENTION_MONTHS",
    Rule.PASSPORT_AFTER_CERTIFICATE: "PASSPORT_RETENTION_MONTHS",
}


@dataclass(frozen=True)
class DueDocument:
    """A document whose period is over: which one, by which rule, counted from when."""

    document_id: int
    application_id: int
    teacher_id: int
    kind: DocumentKind
    stored_name: str
    rule: Rule
    months: int
    #: the moment the period started (the rejection, the intake's end, the certificate's issue)
    since: datetime

    @property
    def since_day(self) -> str:
        """The portal day on which the period started, ISO: what the audit row and logs say."""
        return self.since.astimezone(clock.portal_zone()).date().isoformat()


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier; a day the month lacks becomes its last."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _months(setting: str) -> int:
    return max(int(current_app.config[setting]), 0)


#: how a rule's row gives its rule and the moment its period started
Reading = Callable[[Row], tuple[Rule, datetime]]

_COLUMNS = (Document.id, Document.application_id, Application.teacher_id, Document.kind,
            Document.stored_name)


def _closed(cutoff: datetime) -> tuple[Select, Reading]:
    """Rejected and withdrawn applications that reached that status by the cutoff."""
    moved = (
        select(func.max(ApplicationEvent.created_at))
        .where(ApplicationEvent.application_id == Application.id,
               ApplicationEvent.to_status == Application.status)
        .correlate(Application)
        .scalar_subquery()
    )
    since = func.coalesce(moved, Application.updated_at)
    query = (
        select(*_COLUMNS, Application.status, since)
        .join(Application, Application.id == Document.application_id)
        .where(Application.status.in_(CLOSED_STATUSES), since <= cutoff)
    )
    return query, lambda row: (Rule(row[5].value), row[6])


def _expired(cutoff: datetime) -> tuple[Select, Reading]:
    """Applications left behind by an intake that ended by the cutoff."""
    # the intake is over from the first moment of the day after its last: by the cutoff
    # when that day is no later than the cutoff's own portal day
    cutoff_day = cutoff.astimezone(clock.portal_zone()).date()
    query = (
        select(*_COLUMNS, Intake.ends_on)
        .join(Application, Application.id == Document.application_id)
        .join(Intake, Intake.id == Application.intake_id)
        .where(Application.status.in_(EXPIRING_STATUSES), Intake.ends_on < cutoff_day)
    )
    return query, lambda row: (Rule.EXPIRED, _end_of(row[5]))


def _end_of(last_day: date) -> datetime:
    return clock.day_starts_at(last_day + timedelta(days=1))


def _passports(cutoff: datetime) -> tuple[Select, Reading]:
    """Passport pages of applications whose valid certificate was issued by the cutoff."""
    query = (
        select(*_COLUMNS, Certificate.issued_at)
        .join(Application, Application.id == Document.application_id)
        # at most one issued certificate per application (a partial unique index)
        .join(Certificate, and_(Certificate.application_id == Application.id,
                                Certificate.status == CertificateStatus.ISSUED))
        .where(Document.kind == DocumentKind.PASSPORT, Certificate.issued_at <= cutoff)
    )
    return query, lambda row: (Rule.PASSPORT_AFTER_CERTIFICATE, row[5])


def _sources(now: datetime) -> Iterator[tuple[int, tuple[Select, Reading]]]:
    """Each rule's query and how to read its rows, for the rules that are on."""
    closed, passport = _months("DOCUMENT_RETENTION_MONTHS"), _months("PASSPORT_RETENTION_MONTHS")
    if closed:
        cutoff = months_before(now, closed)
        yield closed, _closed(cutoff)
        yield closed, _expired(cutoff)
    if passport:
        yield passport, _passports(months_before(now, passport))


def due_batches(now: datetime | None = None,
                batch_size: int = BATCH_SIZE) -> Iterator[list[DueDocument]]:
    """The documents whose period is over at `now`, in batches by rule and document id.

    Read page by page after the last id seen, so the caller may delete and commit each batch
    before asking for the next.
    """
    now = now or clock.now()
    for months, (query, reading) in _sources(now):
        after_id = 0
        while True:
            rows = db.session.execute(
                query.where(Document.id > after_id).order_by(Document.id).limit(batch_size)
            ).all()
            if not rows:
                break
            batch = []
            for row in rows:
                rule, since = reading(row)
                batch.append(DueDocument(
                    document_id=row[0], application_id=row[1], teacher_id=row[2],
                    kind=DocumentKind(row[3]), stored_name=row[4], rule=rule, months=months,
                    since=since))
            yield batch
            after_id = rows[-1][0]
            if len(rows) < batch_size:
                break


def due_documents(now: datetime | None = None) -> list[DueDocument]:
    """Every document whose period is over at `now` (what a run would delete)."""
    return [due for batch in due_batches(now) for due in batch]


def _delete(batch: list[DueDocument]) -> list[DueDocument]:
    """Delete the batch's rows and audit each; files go after the caller's commit."""
    deleted = [due for due in batch
               if documents.delete_stored(due.document_id, due.application_id, due.stored_name)]
    audit.record_many([{
        "action": ACTION,
        "teacher": due.teacher_id,
        "object_type": Application.__tablename__,
        "object_id": due.application_id,
        "details": {
            "kind": due.kind.value,
            "document_id": due.document_id,
            "rule": due.rule.value,
            "months": due.months,
            "setting": SETTING_OF[due.rule],
            "since": due.since_day,
        },
    } for due in deleted])
    return deleted


def delete_due(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> list[DueDocument]:
    """Delete every document whose period is over, committing each batch; those deleted."""
    deleted: list[DueDocument] = []
    for batch in due_batches(now, batch_size):
        done = _delete(batch)
        db.session.commit()
        deleted.extend(done)
        for due in done:
            log.info("document %s (%s) of application %s deleted: %s, %s months since %s",
                     due.document_id, due.kind.value, due.application_id, due.rule.value,
                     due.months, due.since_day)
    return deleted


def delete_expired_documents() -> str:
    """The timed step: delete the documents whose retention period is over; commits."""
    return f"deleted {len(delete_due())}"

