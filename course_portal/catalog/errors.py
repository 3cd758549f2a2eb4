"""The domain error of the catalog."""

from __future__ import annotations

from course_portal.core.domain import DomainError


class CatalogError(DomainError):
    """A catalog rule said no.

    Field names of list rows are "<list>.<key>.<field>": "modules.2.position" is the position
    of the third row given to save_modules, "quotas.7" the quota of partner university 7.
    """
