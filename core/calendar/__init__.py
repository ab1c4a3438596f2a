"""The working-day calendar: pure deadline arithmetic (:mod:`core.calendar.days`) and the tenant's
calendar settings use cases (:mod:`core.calendar.settings`)."""

from core.calendar.days import (
    DEFAULT_TIMEZONE,
    MAX_DURATION_AMOUNT,
    BusinessHours,
    DeadlineUnit,
    Duration,
    TenantCalendar,
)

__all__ = ["DEFAULT_TIMEZONE", "MAX_DURATION_AMOUNT", "BusinessHours", "DeadlineUnit", "Duration", "TenantCalendar"]
