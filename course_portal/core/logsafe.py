"""Values made safe for a log line: one line, bounded, line breaks and controls escaped."""

from __future__ import annotations


def loggable(value, limit: int = 200) -> str:
    """A value as it can go in a log line: repr escapes line breaks, bidi and other controls.

    A name or an address typed with "\\n" in it then cannot forge a second log line.
    """
    return repr(("" if value is None else str(value))[:limit])
