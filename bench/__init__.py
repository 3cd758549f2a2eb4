"""Benchmarks of the portal, run with `python -m bench`; each reports ratios measured in one run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of a benchmark's table: what was measured, its value, the target, met or not."""

    measure: str
    value: str
    target: str = ""
    #: True met, False missed, None for a row without a target
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        """PASS, FAIL or nothing."""
        return {True: "PASS", False: "FAIL", None: ""}[self.ok]
