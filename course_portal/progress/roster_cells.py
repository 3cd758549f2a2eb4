"""The roster grid's module cells as HTML, written in Python rather than the template's loop.

A page of 50 teachers of an 18-module program has 900 module cells, each an input and a
select with their names, values, labels and error marks. Written by the template, each cell
cost a dozen calls into Jinja's runtime (the cell names, the label's |format, the options'
lookup) and was most of the page's time; here a row is one pass over prepared strings. Every
value that comes from a person (names in labels, typed values, messages) is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from course_portal.core.names import person_name
from course_portal.progress.grid import hours_key, outcome_key
from course_portal.progress.models import Outcome

#: values no row has, replaced in a row's link and labels, prepared once for the page
_PLACEHOLDER_ID = 987654321
_PLACEHOLDER_TOTAL = 987654322
_PLACEHOLDER_TOTAL_TEXT = str(_PLACEHOLDER_TOTAL)
_PLACEHOLDER_NAME = "\x00name\x00"

#: the result codes a select offers, in order
OUTCOME_CODES = (Outcome.PENDING.value, Outcome.PASSED.value, Outcome.FAILED.value)


def result_options(labels: Mapping[str, str]) -> dict[str | None, Markup]:
    """Each result's <option> list with that result selected (None: none selected)."""
    def options(chosen: str | None) -> str:
        return "".join(
            f'<option value="{code}"{" selected" if code == chosen else ""}>'
            f"{escape(labels[code])}</option>" for code in OUTCOME_CODES)

    return {chosen: Markup(options(chosen))  # noqa: S704 (the labels are escaped)
            for chosen in (*OUTCOME_CODES, None)}


def _select_options(chosen: str, options: Mapping[str | None, str]) -> str:
    """The options with the stored or typed value selected; an unknown value (typed, wrong)
    is kept as its own selected option so the coordinator sees what was sent."""
    if chosen in options and chosen is not None:
        return options[chosen]
    value = escape(chosen)
    return f'<option value="{value}" selected>{value}</option>{options[None]}'


def _invalid(key: str, errors: Mapping) -> str:
    return f' aria-invalid="true" aria-describedby="e-{key}"' if key in errors else ""


def module_labels(modules, labels: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """(id, hours label, result label) of each module with the teacher's name still to put
    in: the label templates filled once for the page, not once per cell.

    modules: (id, position, hours) of each module, in order (Roster.cell_modules); labels: the
    translated "hours" and "result" label templates (%-style, with name, num and hours).
    """
    hours_template, result_template = str(escape(labels["hours"])), str(escape(labels["result"]))
    return [(module_id,
             hours_template % {"name": _PLACEHOLDER_NAME, "num": position, "hours": hours},
             result_template % {"name": _PLACEHOLDER_NAME, "num": position})
            for module_id, position, hours in modules]


def module_cells(application_id: int, name: str, editable: bool,
                 modules: list[tuple[int, str, str]], values: Mapping, errors: Mapping,
                 options: Mapping[str | None, str]) -> str:
    """One teacher's module cells (<td> each): attended hours and result per module.

    modules: module_labels() of the page; options: result_options() of the page.
    """
    disabled = "" if editable else " disabled"
    person = str(escape(name))
    parts = []
    for module_id, hours_label, result_label in modules:
        hk = hours_key(application_id, module_id)
        rk = outcome_key(application_id, module_id)
        marked = cell_errors = hours_invalid = result_invalid = ""
        if errors:
            marked = " has-error" if hk in errors or rk in errors else ""
            cell_errors = "".join(
                f'<span class="error cell-error" id="e-{key}">{escape(" ".join(errors[key]))}'
                "</span>" for key in (hk, rk) if key in errors)
            hours_invalid, result_invalid = _invalid(hk, errors), _invalid(rk, errors)
        parts.append(
            f'<td class="roster-cell{marked}"><input name="{hk}" value="{escape(values[hk])}" '
            f'inputmode="numeric" size="3" maxlength="20" '
            f'aria-label="{hours_label.replace(_PLACEHOLDER_NAME, person)}"'
            f"{hours_invalid}{disabled}>"
            f'<select name="{rk}" aria-label="{result_label.replace(_PLACEHOLDER_NAME, person)}"'
            f"{result_invalid}{disabled}>"
            f"{_select_options(values[rk], options)}</select>{cell_errors}</td>"
        )
    return "".join(parts)


def row_writer(*, modules, values: Mapping, errors: Mapping, labels: Mapping[str, str],
               options: Mapping[str | None, str], is_score: bool,
               status_label: Callable, result_label: Callable,
               plain_name: Callable) -> Callable:
    """A function writing one teacher's row (<tr>) of the grid, with what every row shares
    prepared once: the link to a teacher's record, the final cell's label templates, the
    "credited of total" template. modules: Roster.cell_modules."""
    placeholder = str(_PLACEHOLDER_ID)
    cells = module_labels(modules, labels)
    record = url_for("progress.record", application_id=_PLACEHOLDER_ID)
    final_label = str(escape(_("%(name)s: final score", name=_PLACEHOLDER_NAME)
                             if is_score else
                             _("%(name)s: final assessment", name=_PLACEHOLDER_NAME)))
    hours = str(escape(_("%(credited)d of %(total)d", credited=_PLACEHOLDER_ID,
                         total=_PLACEHOLDER_TOTAL)))

    def row(application, verdict) -> Markup:
        number = str(application.id)
        profile = application.teacher.profile
        name = plain_name(application.teacher)
        editable = application.status.value == "enrolled"
        shown = person_name(profile) if profile else escape(name)
        badge = "" if editable else (
            f'<br><span class="badge status-badge badge-{escape(application.status.value)}">'
            f"{escape(status_label(application.status))}</span>")
        fk = f"s-{number}" if is_score else f"f-{number}"
        disabled = "" if editable else " disabled"
        label = final_label.replace(_PLACEHOLDER_NAME, str(escape(name)))
        if is_score:
            control = (f'<input type="text" name="{fk}" value="{escape(values[fk])}" '
                       f'inputmode="numeric" size="4" maxlength="20" autocomplete="off" '
                       f'aria-label="{label}"{_invalid(fk, errors)}{disabled}>')
        else:
            control = (f'<select name="{fk}" aria-label="{label}"{_invalid(fk, errors)}'
                       f"{disabled}>{_select_options(values[fk], options)}</select>")
        error = (f'<span class="error cell-error" id="e-{fk}">{escape(" ".join(errors[fk]))}'
                 "</span>" if fk in errors else "")
        result = str(verdict.result)
        credited = (hours.replace(placeholder, str(verdict.hours_credited))
                    .replace(_PLACEHOLDER_TOTAL_TEXT, str(verdict.hours_total)))
        html = (
            f'<tr><th scope="row" class="roster-name"><a href="{record.replace(placeholder, number)}">'
            f"{shown}</a>{badge}</th>"
            f"{module_cells(application.id, name, editable, cells, values, errors, options)}"
            f'<td class="roster-cell roster-final{" has-error" if fk in errors else ""}">'
            f"{control}{error}</td>"
            f'<td class="num roster-total">{credited} <br><span class="roster-verdict '
            f'roster-verdict-{escape(result.replace(" ", "-"))}">{escape(result_label(result))}'
            "</span></td></tr>"
        )
        return Markup(html)  # noqa: S704 (every person's value above is escaped)

    return row
