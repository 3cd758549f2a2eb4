"""The URL converter for ids: a number no id column can hold is a 404, never a 500."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

#: the largest value of PostgreSQL's integer columns (SQLite stops at 2^63 - 1)
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` bounded to what every id column holds on both databases.

    Without the bound, /applications/9223372036854775808 reached SQLite as an OverflowError and
    PostgreSQL as an out-of-range error: a 500 for a typing mistake. A larger number does not
    match the rule, so the answer is the usual 404.
    """

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:
        bound = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)


def init_app(app) -> None:
    """Every `<int:...>` of the URL map is an id: register before any route is added."""
    app.url_map.converters["int"] = IdConverter
