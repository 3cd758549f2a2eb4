"""Helpers for the progress tests: filling a roster's cells, counting queries."""

from __future__ import annotations

from course_portal.progress.grid import final_key, hours_key, outcome_key


def cells_for(application, modules, hours=None, outcome="passed", final="passed") -> dict:
    """Grid cells giving one application the hours (default: all) and results in each module."""
    cells = {}
    for index, module in enumerate(modules):
        given = module.hours if hours is None else hours[index]
        cells[hours_key(application.id, module.id)] = str(given)
        cells[outcome_key(application.id, module.id)] = outcome
    cells[final_key(application.id)] = final
    return cells
