"""The review queue's rows as HTML, written in Python rather than the template's loop.

A queue page has 50 rows of eight cells: the teacher's name in two scripts, the partner, the
programme and intake in the reader's language, the funding, a status badge and the moment of
submission in the reader's zone. Written by the template, each row cost some thirty calls into
Jinja's runtime and the rows were half of the page's time; here a row is one pass over
strings prepared once for the page. Every value that comes from a person is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from course_portal.core.names import person_name
from course_portal.core.web import format_moment, machine_moment
from course_portal.enrollment.labels import funding_name, status_name
from course_portal.enrollment.queue import QueueRow

#: an id no application has, replaced in one link to make every row's link
_PLACEHOLDER_ID = 987654321


def column_labels() -> dict[str, str]:
    """The column names each cell repeats for narrow screens (data-label), translated once."""
    return {
        "teacher": _("Teacher"),
        "partner": _("Partner university"),
        "program": _("Program and intake"),
        "funding": _("Funding"),
        "status": _("Status"),
        "submitted": _("Submitted"),
        "documents": _("Documents"),
    }


def row_writer(selected: Collection[int]) -> Callable[[QueueRow], Markup]:
    """A function writing one queue row (<tr>), with what every row shares prepared once:
    the column labels, the checkbox's label, the link to an application."""
    labels = {key: str(escape(value)) for key, value in column_labels().items()}
    select_label = str(escape(_("Select application № %(id)d", id=_PLACEHOLDER_ID)))
    link = url_for("enrollment.review_application", application_id=_PLACEHOLDER_ID)
    placeholder = str(_PLACEHOLDER_ID)

    def row(queue_row: QueueRow) -> Markup:
        application = queue_row.application
        number = str(application.id)
        profile = application.teacher.profile
        name = person_name(profile) if profile else escape(application.teacher.email)
        partner = (escape(profile.partner_university.t("name"))
                   if profile and profile.partner_university else "—")
        intake = application.intake
        status = application.status
        checked = " checked" if application.id in selected else ""
        submitted = ""
        if application.submitted_at:
            submitted = (f'<time datetime="{machine_moment(application.submitted_at)}">'
                         f'{escape(format_moment(application.submitted_at, "short"))}</time>')
        html = (
            '<tr><td class="review-check"><label><input type="checkbox" name="ids" '
            f'value="{number}:{escape(status.value)}"{checked}><span class="review-sr">'
            f'{select_label.replace(placeholder, number)}</span></label></td>'
            f'<td data-label="{labels["teacher"]}"><a href="{link.replace(placeholder, number)}"'
            f' class="review-name">{name}</a> <span class="review-id">№ {number}</span></td>'
            f'<td data-label="{labels["partner"]}">{partner}</td>'
            f'<td data-label="{labels["program"]}">{escape(intake.program.code)} · '
            f'{escape(intake.t("title"))}</td>'
            f'<td data-label="{labels["funding"]}">{escape(funding_name(application) or "—")}'
            "</td>"
            f'<td data-label="{labels["status"]}"><span class="review-status '
            f'review-status-{escape(status.value)}">{escape(status_name(status))}</span></td>'
            f'<td data-label="{labels["submitted"]}">{submitted}</td>'
            f'<td data-label="{labels["documents"]}" class="num">{queue_row.documents}</td></tr>'
        )
        return Markup(html)  # noqa: S704 (every person's value above is escaped)

    return row
