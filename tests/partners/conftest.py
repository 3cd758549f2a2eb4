"""Fixtures of the partner tests."""

from __future__ import annotations

import pytest

from tests.partners.helpers import make_world


@pytest.fixture
def world(db):
    """Two universities, their teachers, a certificate each, a liaison each, a coordinator."""
    return make_world()
