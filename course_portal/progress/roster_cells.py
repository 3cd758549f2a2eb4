"""The roster grid's module cells as HTML, written in Python rather than the template's loop.

A page of 50 teachers of an 18-module program has 900 module cells, each an input and a
select with their names, values, labels and error marks. Written by the template, each cell
cost a dozen calls into Jinja's runtime (the cell names, the label's |format, the options'
lookup) and was most of the page's time; here a row is one pass over prepared strings. Every
value that comes from a person (names in labels, typed values, messages) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from course_portal.progress.grid import hours_key, outcome_key
from course_portal.progress.models import Outcome

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


def module_cells(application_id: int, name: str, editable: bool, modules, values: Mapping,
                 errors: Mapping, labels: Mapping[str, str],
                 options: Mapping[str | None, str]) -> Markup:
    """One teacher's module cells (<td> each): attended hours and result per module.

    modules: (id, position, hours) of each module, in order (Roster.cell_modules); labels: the
    translated "hours" and "result" label templates (%-style, with name, num and hours);
    options: result_options() of the page.
    """
    disabled = "" if editable else " disabled"
    # the label templates and the name escaped once for the row, not once per cell
    hours_template, result_template = str(escape(labels["hours"])), str(escape(labels["result"]))
    person = str(escape(name))
    parts = []
    for module_id, position, hours in modules:
        hk = hours_key(application_id, module_id)
        rk = outcome_key(application_id, module_id)
        hours_label = hours_template % {"name": person, "num": position, "hours": hours}
        result_label = result_template % {"name": person, "num": position}
        marked = " has-error" if hk in errors or rk in errors else ""
        cell_errors = "".join(
            f'<span class="error cell-error" id="e-{key}">{escape(" ".join(errors[key]))}</span>'
            for key in (hk, rk) if key in errors)
        parts.append(
            f'<td class="roster-cell{marked}"><input name="{hk}" value="{escape(values[hk])}" '
            f'inputmode="numeric" size="3" maxlength="20" aria-label="{hours_label}"'
            f"{_invalid(hk, errors)}{disabled}>"
            f'<select name="{rk}" aria-label="{result_label}"{_invalid(rk, errors)}{disabled}>'
            f"{_select_options(values[rk], options)}</select>{cell_errors}</td>"
        )
    return Markup("".join(parts))  # noqa: S704 (every person's value above is escaped)
