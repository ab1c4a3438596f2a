"""Keyset pagination: one stable order over key columns, a page after or before a row's key.

A page is read as ``size + 1`` rows so the extra row says whether more lie beyond it; no
OFFSET, so a page costs the same deep in a large list, and rows added meanwhile do not shift it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.query.methods.select import Select


@dataclass(frozen=True, slots=True)
class Window:
    """``size`` rows after ``after`` and before ``before`` (key tuples); with ``backward`` the
    last ``size`` of that range rather than the first."""

    size: int
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    backward: bool = False


def _beyond(columns: Sequence[Column], key: tuple[Any, ...], up: bool) -> Any:
    """Rows strictly above (``up``) or below ``key`` in the lexicographic order of ``columns``."""
    condition = None
    for column, value in reversed(list(zip(columns, key, strict=True))):
        strict = column > value if up else column < value
        condition = strict if condition is None else strict | ((column == value) & condition)
    return condition


async def fetch(query: Select, columns: Sequence[Column], window: Window, *,
                descending: bool = False) -> tuple[list[dict[str, Any]], bool]:
    """The window's rows in the list's own order (``columns``, descending if asked), and whether
    another row lies beyond the page: after it going forward, before it going backward."""
    if window.after is not None:
        query = query.where(_beyond(columns, window.after, up=not descending))
    if window.before is not None:
        query = query.where(_beyond(columns, window.before, up=descending))
    ascending = descending == window.backward  # backward reads the list from its end
    rows = list(await query.order_by(*columns, ascending=ascending).limit(window.size + 1))
    more = len(rows) > window.size
    rows = rows[:window.size]
    if window.backward:
        rows.reverse()
    return rows, more


def matching(query: Select, *filters: tuple[Column, Any]) -> Select:
    """``query`` narrowed to rows whose column equals the value, for each (column, value) given a
    value; a filter left at None does not narrow (the optional arguments of a list)."""
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    return query
