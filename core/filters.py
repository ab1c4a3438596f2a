"""Filters on lists: a value a list can never hold is refused, not answered with an empty page.

An integrator who sends ``status: "actve"`` should hear that the value is wrong (like an unknown
sort), not conclude that there are no such records.
"""

from __future__ import annotations

from collections.abc import Collection

from core.errors import KehuError


def one_of(value: str | None, allowed: Collection[str], field: str) -> str | None:
    """``value`` if it is None or one of ``allowed``; else FILTER_INVALID naming ``field``."""
    if value is None or value in allowed:
        return value
    choices = ", ".join(sorted(allowed))
    raise KehuError("FILTER_INVALID", f"{field} must be one of {choices}", f"{field} 须为 {'、'.join(sorted(allowed))} 之一",
                    field=field)
