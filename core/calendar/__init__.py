"""The working-day calendar: pure deadline arithmetic (:mod:`core.calendar.days`), the official
schedules year by year (:mod:`core.calendar.official`, :mod:`core.calendar.schedule_file`,
:mod:`core.calendar.schedules`) and the tenant's calendar settings use cases
(:mod:`core.calendar.settings`)."""

from core.calendar.days import (  # noqa: F401 - the package's public names
    DEFAULT_TIMEZONE,
    MAX_DURATION_AMOUNT,
    BusinessHours,
    Deadline,
    DeadlineUnit,
    Duration,
    TenantCalendar,
)
