"""Fixtures for the progress tests: a coordinator and an intake that has run, with teachers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from course_portal.core.clock import portal_today
from tests import factories


@pytest.fixture
def coordinator(db):
    """A course coordinator."""
    return factories.make_user(role="coordinator")


@pytest.fixture
def program(db):
    """A program of three modules: 8, 12 and 20 hours (40 in all)."""
    return factories.make_program(hours=(8, 12, 20), title_en="Intellectual Systems",
                                  title_zh="智能系统", title_ru="Интеллектуальные системы")


@pytest.fixture
def intake(program):
    """An intake that started two months ago and ends in a month."""
    today = portal_today()
    return factories.make_intake(
        program, title="Autumn 2026",
        applications_open_on=today - timedelta(days=120),
        applications_close_on=today - timedelta(days=70),
        starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=30),
    )


@pytest.fixture
def ended_intake(program):
    """An intake that ended yesterday."""
    today = portal_today()
    return factories.make_intake(
        program, title="Summer 2026",
        applications_open_on=today - timedelta(days=200),
        applications_close_on=today - timedelta(days=150),
        starts_on=today - timedelta(days=120), ends_on=today - timedelta(days=1),
    )


@pytest.fixture
def enrolled(intake):
    """Three enrolled teachers of the intake."""
    return [
        factories.make_application(
            teacher=factories.make_teacher(family_name_latin=name, given_name_latin="Li"),
            intake=intake, status="enrolled")
        for name in ("Chen", "Zhang", "Wang")
    ]
