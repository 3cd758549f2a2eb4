"""Fixtures for the enrollment tests: a coordinator, a program, an intake, an app for races."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def coordinator(db):
    """A course coordinator."""
    return factories.make_user(role="coordinator")


@pytest.fixture
def program(db):
    """A program with its title in three languages."""
    return factories.make_program(
        title_en="Investment Ecosystem", title_zh="投资生态系统", title_ru="Инвестиционная экосистема"
    )


@pytest.fixture
def intake(program):
    """An intake of five seats, accepting applications today."""
    return factories.make_intake(program, capacity=5, title="Spring 2027")


#: threads in the race tests
THREADS = 24


@pytest.fixture
def race_app(make_app):
    """An app whose pool has a connection for every thread (they all wait at one barrier)."""
    application = make_app(SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": THREADS + 2, "max_overflow": 4, "pool_timeout": 30,
    })
    with application.app_context():
        yield application
