"""Calendar months, as the regulations count them ("valid for 1 month", "1 个月"): the same day
of the next month, or that month's last day when it has no such day (31 Jan + 1 month = 28/29 Feb)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from dateutil.relativedelta import relativedelta

Moment = TypeVar("Moment", date, datetime)


def add_months(moment: Moment, months: int) -> Moment:
    """``moment`` moved by ``months`` calendar months (negative: back)."""
    return moment + relativedelta(months=months)


def months_after(start: Moment, moment: Moment, months: int) -> bool:
    """Whether ``moment`` lies more than ``months`` calendar months after ``start`` (an RE20
    registration followed up on ``start`` is invalid at ``moment``)."""
    return moment > add_months(start, months)
