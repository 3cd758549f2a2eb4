"""A number no id column can hold, in any id of any route, answers 404 on both databases."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from course_portal.core.ids import MAX_ID

HUGE = (MAX_ID + 1, 2**63, 10**30)


def _id_rules(app):
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items()
                if isinstance(conv, IntegerConverter)]
        if ints:
            yield rule, ints


def test_every_id_route_is_bounded(app):
    rules = list(_id_rules(app))
    assert len(rules) > 20  # the walk below reaches the portal's id routes
    for rule, names in rules:
        for name in names:
            assert rule._converters[name].max == MAX_ID, rule.rule


@pytest.mark.parametrize("role", ["teacher", "coordinator", "admin"])
def test_a_huge_id_is_a_404_for_everyone_not_a_500(app, client, login_as, role):
    login_as(role)
    for rule, names in _id_rules(app):
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for huge in HUGE:
            values = {name: 1 for name in rule.arguments}
            values.update(dict.fromkeys(names, huge))
            for name in rule.arguments - set(names):
                values[name] = "x"
            path = rule.rule
            for name, value in values.items():
                path = path.replace(f"<int:{name}>", str(value))
                path = path.replace(f"<{name}>", str(value)).replace(f"<path:{name}>", str(value))
            for method in methods:
                response = client.open(path, method=method)
                assert response.status_code == 404, (method, path, response.status_code)
