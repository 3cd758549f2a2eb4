"""The audit log as coordinators read it: filters, pages, labels, a short summary, the CSV.

Every feature writes its rows through course_portal.core.audit.record(); this module only reads
them. A page costs the same few queries whatever the number of rows: a COUNT, the page's rows,
and their actors and teachers with profiles (selectinload), whatever the page shows.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.core.audit import ACTION_GROUPS, AuditEvent
from course_portal.core.names import display_name
from course_portal.core.spreadsheets import CsvWriter
from course_portal.core.timezones import local_naive, reader_zone_name
from course_portal.enrollment.labels import document_labels, status_name
from course_portal.enrollment.queue import QueuePage, _term_matches, search_terms
from course_portal.extensions import db

PER_PAGE = 50
#: the actor filter's value for actions of the portal itself (no user)
PORTAL = "portal"
#: where other features keep their actions: (module, name of the dict), imported if present
EXTRA_ACTIONS = (
    ("course_portal.accounts.actions", "ACCOUNT_ACTIONS", _l("Accounts")),
    ("course_portal.accounts.audit", "ACCOUNT_ACTIONS", _l("Accounts")),
    ("course_portal.accounts.services", "ACCOUNT_ACTIONS", _l("Accounts")),
    ("course_portal.accounts", "ACCOUNT_ACTIONS", _l("Accounts")),
    ("course_portal.partners.actions", "PARTNER_ACTIONS", _l("Partner liaisons")),
    ("course_portal.partners.audit", "PARTNER_ACTIONS", _l("Partner liaisons")),
    ("course_portal.partners.services", "PARTNER_ACTIONS", _l("Partner liaisons")),
    ("course_portal.partners", "PARTNER_ACTIONS", _l("Partner liaisons")),
)
#: what a detail is called in the summary; keys not here are shown as they are stored
DETAIL_LABELS = {
    "reason": _l("Reason"),
    "number": _l("Number"),
    "replaces": _l("Replaces"),
    "program": _l("Program"),
    "intake": _l("Intake"),
    "format": _l("Format"),
    "count": _l("Recipients"),
    "subject": _l("Subject"),
    "audience": _l("Audience"),
    "report": _l("Report"),
    "kind": _l("Document"),
    "size": _l("Size"),
    "partner": _l("Partner university"),
    "module": _l("Module"),
    "source": _l("Entered in"),
    "rows": _l("Rows"),
    "changes": _l("Changes"),
    "completed": _l("Completed"),
    "not_completed": _l("Not completed"),
    "failed": _l("Left as they were"),
    "total": _l("Teachers"),
    "added": _l("Added"),
    "removed": _l("Removed"),
    "changed": _l("Changed"),
    "modules": _l("Modules"),
    "filters": _l("Filters"),
    "search": _l("Searched by name"),
    "rule": _l("Retention rule"),
    "months": _l("Months kept"),
    "since": _l("Counted from"),
    "setting": _l("Setting"),
    "document_id": _l("Document number"),
    "consent": _l("Consent"),
    "version": _l("Version"),
    "language": _l("Language"),
}
#: details the summary leaves out: the from/to arrow shows them already
HIDDEN_DETAILS = frozenset({"from", "to", "old", "new", "field", "application", "intake_id"})
#: details the object column names already, by the object's table
NAMED_BY_OBJECT = {
    "intakes": frozenset({"intake", "program"}),
    "programs": frozenset({"program"}),
    "certificates": frozenset({"number"}),
}
#: a changed result's field, and its values, in words (the grid's own labels)
FIELD_LABELS = {
    "attended_hours": _l("Hours attended"),
    "outcome": _l("Result"),
    "score": _l("Score"),
}
VALUE_LABELS = {"pending": _l("Not yet"), "passed": _l("Passed"), "failed": _l("Failed")}
SOURCE_LABELS = {"grid": _l("the roster grid"), "csv": _l("a CSV import")}
#: shown first: what the change concerns
FIRST = ("module",)
#: the longest text a summary shows of one value (a reason may be 2,000 characters)
VALUE_MAX = 200


# --- the actions ----------------------------------------------------------------------------


def action_groups() -> list[tuple[Any, dict[str, Any]]]:
    """Every known action by group: the features' own, then accounts' and partners' if defined."""
    groups = [(label, dict(actions)) for label, actions in ACTION_GROUPS]
    seen: set[int] = set()
    for module_name, attribute, label in EXTRA_ACTIONS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        actions = getattr(module, attribute, None)
        if isinstance(actions, dict) and actions and id(actions) not in seen:
            seen.add(id(actions))
            groups.append((label, dict(actions)))
    return groups


def action_labels() -> dict[str, Any]:
    """Action name -> label, every group merged."""
    labels: dict[str, Any] = {}
    for _label, actions in action_groups():
        labels.update(actions)
    return labels


def action_label(action: str, labels: dict[str, Any] | None = None) -> str:
    """The action in the reader's language; an action nobody registered shows its own name."""
    labels = labels if labels is not None else action_labels()
    return str(labels.get(action, action))


# --- filters and pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the reader narrowed the log to; empty is "any"."""

    #: "", PORTAL, or a user id
    actor: str = ""
    #: words found in the teacher's name (汉字 or pinyin) or email
    teacher: str = ""
    action: str = ""
    #: from this day to that one, both included, in the portal's time zone
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as URL query arguments."""
        args = {"actor": self.actor, "teacher": self.teacher, "action": self.action,
                "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {name: value for name, value in args.items() if value}


def _day_start(day: date) -> datetime:
    """The first moment of the day in the portal's time zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(current_app.config["PORTAL_TIMEZONE"]))


def filtered(stmt: Select, filters: AuditFilters) -> Select:
    """The statement narrowed to the filters (each on an indexed column)."""
    if filters.actor == PORTAL:
        stmt = stmt.where(AuditEvent.actor_id.is_(None))
    elif filters.actor.isdigit():
        stmt = stmt.where(AuditEvent.actor_id == int(filters.actor))
    terms = search_terms(filters.teacher)
    if terms:
        teachers = (select(User.id).outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
                    .where(*[_term_matches(term) for term in terms]))
        stmt = stmt.where(AuditEvent.teacher_id.in_(teachers))
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= _day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEvent.occurred_at < _day_start(filters.date_to + timedelta(days=1)))
    return stmt


#: an event's actor and teacher, with the profiles their names come from
ROW_LOADING = (
    selectinload(AuditEvent.actor).selectinload(User.profile),
    selectinload(AuditEvent.teacher).selectinload(User.profile),
)


def _newest_first(stmt: Select) -> Select:
    return stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def audit_page(filters: AuditFilters, page: int = 1, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the filtered log, newest first; a page past the end shows the last one."""
    total = db.session.scalar(filtered(select(func.count(AuditEvent.id)), filters)) or 0
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    rows = list(db.session.scalars(
        _newest_first(filtered(select(AuditEvent), filters)).options(*ROW_LOADING)
        .limit(per_page).offset((page - 1) * per_page)
    ))
    return QueuePage(rows=rows, total=total, page=page, per_page=per_page)


def staff_users() -> list[User]:
    """Coordinators and admins, by name: the actor filter's choices."""
    return list(db.session.scalars(
        select(User).where(User.role.in_([Role.COORDINATOR, Role.ADMIN]))
        .order_by(func.lower(User.display_name), User.email)
    ))


# --- how a row reads ------------------------------------------------------------------------


def person(user: User | None, language: str) -> str:
    """A user's name as plain text: the teacher's names, else the display name, else the email."""
    if user is None:
        return _("Portal")
    if user.profile is not None:
        return display_name(user.profile, language) or user.email
    return user.display_name or user.email


def _value(value) -> str:
    """A stored detail as short text."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        text = ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
    elif isinstance(value, list):
        if len(value) == 2 and not any(isinstance(v, (list, dict)) for v in value):
            text = f"{_value(value[0])} → {_value(value[1])}"
        else:
            text = ", ".join(_value(v) for v in value)
    elif value is None:
        text = "—"
    else:
        text = str(value)
    return text if len(text) <= VALUE_MAX else text[:VALUE_MAX - 1] + "…"


def _status(value) -> str:
    try:
        return str(status_name(value))
    except ValueError:
        return str(value)


def summary(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's details as (label, text) pairs: a change first, then the rest. Plain text:
    the page escapes it (names and reasons may hold markup)."""
    details = event.details or {}
    hidden = HIDDEN_DETAILS | NAMED_BY_OBJECT.get(event.object_type, frozenset())
    lines: list[tuple[str, str]] = []
    for key in FIRST:
        if details.get(key):
            lines.append((str(DETAIL_LABELS.get(key, key)), _value(details[key])))
    if "from" in details and "to" in details:
        lines.append((_("Status"), f"{_status(details['from'])} → {_status(details['to'])}"))
    if "old" in details or "new" in details:
        field = details.get("field")
        old, new = (_value(VALUE_LABELS.get(str(details.get(k)), details.get(k)))
                    if field == "outcome" else _value(details.get(k)) for k in ("old", "new"))
        lines.append((str(FIELD_LABELS.get(str(field), field or _("Value"))), f"{old} → {new}"))
    kinds = document_labels()
    for key, value in details.items():
        if key in hidden or key in FIRST or value in ("", None, [], {}):
            continue
        if key == "size" and isinstance(value, int):
            value = f"{max(value // 1024, 1)} KB"
        elif key == "kind":
            value = kinds.get(value, value)
        elif key == "source":
            value = SOURCE_LABELS.get(value, value)
        lines.append((str(DETAIL_LABELS.get(key, key)), _value(value)))
    return lines


def summary_text(event: AuditEvent) -> str:
    """The summary on one line, for the CSV."""
    return "; ".join(f"{label}: {text}" for label, text in summary(event))


def object_of(event: AuditEvent) -> tuple[str, str | None]:
    """What the action changed, named, and the staff page that shows it (None when none)."""
    kind, object_id, details = event.object_type, event.object_id, event.details or {}
    if not kind:
        return "", None
    if kind == "applications":
        label = _("Application № %(id)s", id=object_id)
        if event.action.startswith(("result.", "final_assessment.")):
            return label, url_for("progress.record", application_id=object_id)
        return label, url_for("enrollment.review_application", application_id=object_id)
    if kind == "certificates":
        label = _("Certificate %(number)s", number=details.get("number") or f"№ {object_id}")
        return label, url_for("certificates.manage_certificate", certificate_id=object_id)
    if kind == "intakes":
        title = " · ".join(str(p) for p in (details.get("program"), details.get("intake")) if p)
        return (_("Intake %(title)s", title=title or f"№ {object_id}"),
                url_for("dashboard.intake", intake_id=object_id))
    if kind == "programs":
        return (_("Program %(code)s", code=details.get("program") or f"№ {object_id}"),
                url_for("catalog.manage_program", program_id=object_id))
    if kind == "users":
        return _("Account № %(id)s", id=object_id), None
    if kind == "certificate_batches":
        return (_("Batch № %(id)s", id=object_id),
                url_for("certificates.batch", batch_id=object_id))
    return f"{kind} № {object_id}", None


def teacher_url(event: AuditEvent) -> str | None:
    """The teacher's applications in the review queue, found by their email."""
    if event.teacher is None:
        return None
    return url_for("enrollment.review_queue", q=event.teacher.email, status="all")


# --- the CSV --------------------------------------------------------------------------------

#: the most rows one export writes: the log of years, filtered, fits; the whole table need not
EXPORT_MAX = 50_000
EXPORT_BATCH = 500


def csv_chunks(filters: AuditFilters, language: str, *, with_ip: bool = False):
    """The filtered log as CSV text in chunks (UTF-8 BOM first), formulas neutralised.

    with_ip: the IP address column, for admins only (an address is personal data that a
    coordinator's work does not need).
    """
    labels = action_labels()
    writer = CsvWriter()
    header = [_("When (%(zone)s)", zone=reader_zone_name()), _("Who"), _("Action"),
              _("Action code"), _("Teacher"), _("Teacher's email"), _("Object"), _("Details")]
    writer.writerow(header + ([_("IP address")] if with_ip else []))
    yield writer.take()
    stmt = _newest_first(filtered(select(AuditEvent), filters)).options(*ROW_LOADING)
    for offset in range(0, EXPORT_MAX, EXPORT_BATCH):
        rows = list(db.session.scalars(stmt.limit(EXPORT_BATCH).offset(offset)))
        for event in rows:
            values = [
                f"{local_naive(event.occurred_at):%Y-%m-%d %H:%M:%S}",
                person(event.actor, language),
                action_label(event.action, labels),
                event.action,
                person(event.teacher, language) if event.teacher else "",
                event.teacher.email if event.teacher else "",
                object_of(event)[0],
                summary_text(event),
            ] + ([event.ip] if with_ip else [])
            writer.writerow(values)
        yield writer.take()
        if len(rows) < EXPORT_BATCH:
            break
