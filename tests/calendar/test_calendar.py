"""Deadlines on the official Chinese calendar (core.calendar.days).

Every expected answer below is written out by hand from the State Council's holiday notices,
never computed by the code under test:

- 2025: 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）
  Spring Festival Jan 28 (除夕)–Feb 4 off, make-up working days Sun Jan 26 and Sat Feb 8;
  Labour Day May 1–5 off, make-up Sun Apr 27;
  National Day + Mid-Autumn Oct 1–8 off, make-up Sun Sep 28 and Sat Oct 11.
- 2026: 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）
  New Year Jan 1–3 off, make-up Sun Jan 4;
  Spring Festival Feb 15–23 off, make-up Sat Feb 14 and Sat Feb 28;
  Labour Day May 1–5 off, make-up Sat May 9;
  Mid-Autumn Sep 25–27 off (so the Friday before National Day, Sep 25, is itself a holiday);
  National Day Oct 1–7 off, make-up Sun Sep 20 and Sat Oct 10.

Each date was also checked against ``chinese_calendar.is_workday`` / ``get_holiday_detail``
(chinesecalendar 1.11), which agree with the notices. Times are written as ISO strings with
explicit offsets; Asia/Shanghai is always +08:00 (no DST); Europe/Berlin is +01:00 in winter and
+02:00 in summer (2025 changes: Mar 30 02:00→03:00, Oct 26 03:00→02:00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from core.errors import KehuError
from core.calendar.days import (
    MAX_DURATION_AMOUNT,
    BusinessHours,
    DeadlineUnit,
    Duration,
    TenantCalendar,
)

SHANGHAI = TenantCalendar()
BERLIN = TenantCalendar(timezone="Europe/Berlin")


def d(text: str) -> date:
    return date.fromisoformat(text)


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def closed_on(*days: str, **kwargs: object) -> TenantCalendar:
    return TenantCalendar(extra_holidays=frozenset(map(d, days)), **kwargs)  # type: ignore[arg-type]


def open_on(*days: str, **kwargs: object) -> TenantCalendar:
    return TenantCalendar(extra_workdays=frozenset(map(d, days)), **kwargs)  # type: ignore[arg-type]


def assert_local(result: datetime, expected: str, calendar: TenantCalendar) -> None:
    """Same instant, same local wall clock and offset, and expressed in the tenant's zone."""
    assert result.isoformat() == expected
    assert str(result.tzinfo) == calendar.timezone


# --- working days on the official calendar ----------------------------------------------------

OFFICIAL_DAYS = [
    # 2025 Spring Festival (国办发明电〔2024〕12号)
    ("2025-01-26", True),   # Sunday, 调休 make-up working day
    ("2025-01-27", True),   # Monday before the holiday
    ("2025-01-28", False),  # Tuesday, 除夕, first day off
    ("2025-02-04", False),  # Tuesday, last day off
    ("2025-02-05", True),   # Wednesday, back to work
    ("2025-02-08", True),   # Saturday, 调休 make-up working day
    ("2025-02-09", False),  # ordinary Sunday
    # 2025 Labour Day
    ("2025-04-27", True),   # Sunday, 调休
    ("2025-05-01", False),
    ("2025-05-05", False),  # Monday, still off
    ("2025-05-06", True),
    # 2025 National Day + Mid-Autumn
    ("2025-09-26", True),   # Friday before
    ("2025-09-27", False),  # ordinary Saturday
    ("2025-09-28", True),   # Sunday, 调休
    ("2025-10-01", False),
    ("2025-10-06", False),  # Mid-Autumn, inside the block
    ("2025-10-08", False),  # Wednesday, last day off
    ("2025-10-09", True),
    ("2025-10-11", True),   # Saturday, 调休
    ("2025-10-12", False),  # ordinary Sunday
    # 2026 (国办发明电〔2025〕7号)
    ("2026-01-04", True),   # Sunday, New Year 调休
    ("2026-02-14", True),   # Saturday, Spring Festival 调休
    ("2026-02-15", False),  # Sunday, first day off
    ("2026-02-23", False),  # Monday, last day off
    ("2026-02-24", True),
    ("2026-02-28", True),   # Saturday, 调休
    ("2026-05-01", False),
    ("2026-05-05", False),  # Tuesday, last day off
    ("2026-05-06", True),
    ("2026-05-09", True),   # Saturday, Labour Day 调休
    ("2026-09-20", True),   # Sunday, National Day 调休
    ("2026-09-25", False),  # Friday, Mid-Autumn
    ("2026-09-27", False),  # Sunday, Mid-Autumn
    ("2026-10-01", False),
    ("2026-10-07", False),  # Wednesday, last day off
    ("2026-10-08", True),
    ("2026-10-10", True),   # Saturday, 调休
    ("2026-10-11", False),  # ordinary Sunday
]


@pytest.mark.parametrize(("day", "expected"), OFFICIAL_DAYS)
def test_is_working_day_follows_the_official_schedule(day: str, expected: bool) -> None:
    assert SHANGHAI.is_working_day(d(day)) is expected


TENANT_DAYS = [
    # (tenant, day, expected, why)
    (closed_on("2025-09-29"), "2025-09-29", False, "tenant closure on an official working Monday"),
    (closed_on("2025-09-28"), "2025-09-28", False, "tenant closed on the 调休 Sunday"),
    (open_on("2025-10-04"), "2025-10-04", True, "tenant works on an official holiday"),
    (open_on("2025-09-27"), "2025-09-27", True, "tenant works on an ordinary Saturday"),
    (TenantCalendar(extra_holidays=frozenset({d("2025-10-02")}), extra_workdays=frozenset({d("2025-10-02")})),
     "2025-10-02", True, "listed as both: extra_workdays wins"),
    (TenantCalendar(extra_holidays=frozenset({d("2025-09-29")}), extra_workdays=frozenset({d("2025-09-29")})),
     "2025-09-29", True, "listed as both on an official working day: still working"),
    (closed_on("2025-09-29"), "2025-09-30", True, "other days unaffected"),
]


@pytest.mark.parametrize(("calendar", "day", "expected", "why"), TENANT_DAYS, ids=[row[3] for row in TENANT_DAYS])
def test_is_working_day_applies_tenant_overrides(calendar: TenantCalendar, day: str, expected: bool, why: str) -> None:
    assert calendar.is_working_day(d(day)) is expected


OUT_OF_RANGE_DAYS = [
    # chinesecalendar 1.11 covers 2004–2026 only; outside that: Monday–Friday, never an error.
    (SHANGHAI, "2100-01-02", False),  # Saturday
    (SHANGHAI, "2100-01-04", True),   # Monday
    (SHANGHAI, "2003-06-02", True),   # Monday
    (SHANGHAI, "2003-06-07", False),  # Saturday
    (closed_on("2100-01-04"), "2100-01-04", False),  # tenant closures still apply
    (open_on("2100-01-02"), "2100-01-02", True),     # and tenant working days
]


@pytest.mark.parametrize(("calendar", "day", "expected"), OUT_OF_RANGE_DAYS)
def test_dates_outside_the_library_range_fall_back_to_monday_to_friday(
    calendar: TenantCalendar, day: str, expected: bool
) -> None:
    assert calendar.is_working_day(d(day)) is expected


def test_a_deadline_in_an_uncovered_year_does_not_raise() -> None:
    # Friday 2100-01-01 10:00 + 1 working day -> Monday 2100-01-04 (Mon–Fri fallback)
    result = SHANGHAI.due_at(dt("2100-01-01T10:00:00+08:00"), Duration(1, DeadlineUnit.WORKING_DAYS))
    assert_local(result, "2100-01-04T18:00:00+08:00", SHANGHAI)


NEXT_WORKING_DAY = [
    (SHANGHAI, "2025-09-26", "2025-09-28"),  # Fri -> 调休 Sunday
    (SHANGHAI, "2025-09-28", "2025-09-29"),  # strictly after, even from a working day
    (SHANGHAI, "2025-09-30", "2025-10-09"),  # over National Day
    (SHANGHAI, "2025-10-10", "2025-10-11"),  # -> 调休 Saturday
    (SHANGHAI, "2026-02-13", "2026-02-14"),  # -> 调休 Saturday before Spring Festival
    (SHANGHAI, "2026-09-18", "2026-09-20"),  # -> 调休 Sunday
    (SHANGHAI, "2026-09-24", "2026-09-28"),  # over Mid-Autumn (Fri 09-25 off)
    (SHANGHAI, "2026-09-30", "2026-10-08"),
    (SHANGHAI, "2026-10-09", "2026-10-10"),  # -> 调休 Saturday
    (closed_on("2025-09-28"), "2025-09-26", "2025-09-29"),
]


@pytest.mark.parametrize(("calendar", "day", "expected"), NEXT_WORKING_DAY)
def test_next_working_day(calendar: TenantCalendar, day: str, expected: str) -> None:
    assert calendar.next_working_day(d(day)) == d(expected)


ADD_WORKING_DAYS = [
    ("2025-09-26", 3, "2025-09-30"),  # 09-28 (调休), 09-29, 09-30
    ("2025-09-26", 4, "2025-10-09"),
    ("2026-09-25", 3, "2026-09-30"),  # 09-28, 09-29, 09-30
    ("2026-09-18", 3, "2026-09-22"),  # 09-20 (调休), 09-21, 09-22
    ("2025-01-27", 1, "2025-02-05"),
    ("2025-01-27", 4, "2025-02-08"),  # 02-05, 02-06, 02-07, 02-08 (调休)
    ("2026-04-30", 4, "2026-05-09"),  # 05-06, 05-07, 05-08, 05-09 (调休)
]


@pytest.mark.parametrize(("day", "n", "expected"), ADD_WORKING_DAYS)
def test_add_working_days_does_not_count_the_day_itself(day: str, n: int, expected: str) -> None:
    assert SHANGHAI.add_working_days(d(day), n) == d(expected)


# --- due_at: working days ---------------------------------------------------------------------

WORKING_DAY_DEADLINES = [
    # (start, working days, due) for the default tenant: Asia/Shanghai, 09:00–18:00.
    # Required: 3 working days set on the Friday before National Day.
    ("2025-09-26T10:00:00+08:00", 3, "2025-09-30T18:00:00+08:00"),  # Sun 09-28 调休, Mon 09-29, Tue 09-30
    ("2026-09-25T10:00:00+08:00", 3, "2026-09-30T18:00:00+08:00"),  # Fri 09-25 is Mid-Autumn; Mon 28, Tue 29, Wed 30
    ("2026-09-18T10:00:00+08:00", 3, "2026-09-22T18:00:00+08:00"),  # Sun 09-20 调休, Mon 09-21, Tue 09-22
    # Across the holiday blocks, landing on 调休 weekends.
    ("2025-09-26T10:00:00+08:00", 5, "2025-10-10T18:00:00+08:00"),  # 28, 29, 30, Oct 9, Oct 10
    ("2025-09-30T10:00:00+08:00", 3, "2025-10-11T18:00:00+08:00"),  # Oct 9, 10, Sat Oct 11 调休
    ("2026-09-29T10:00:00+08:00", 3, "2026-10-09T18:00:00+08:00"),  # 09-30, 10-08, 10-09
    ("2026-09-29T10:00:00+08:00", 4, "2026-10-10T18:00:00+08:00"),  # ... Sat 10-10 调休
    ("2025-01-24T10:00:00+08:00", 2, "2025-01-27T18:00:00+08:00"),  # Sun 01-26 调休, Mon 01-27
    ("2025-01-27T10:00:00+08:00", 1, "2025-02-05T18:00:00+08:00"),  # over Spring Festival
    ("2025-01-27T10:00:00+08:00", 4, "2025-02-08T18:00:00+08:00"),  # 02-05, 06, 07, Sat 02-08 调休
    ("2026-02-13T10:00:00+08:00", 1, "2026-02-14T18:00:00+08:00"),  # Sat 02-14 调休
    ("2026-02-13T10:00:00+08:00", 2, "2026-02-24T18:00:00+08:00"),  # over Spring Festival 2026
    ("2026-02-26T10:00:00+08:00", 2, "2026-02-28T18:00:00+08:00"),  # Fri 02-27, Sat 02-28 调休
    ("2025-04-25T10:00:00+08:00", 1, "2025-04-27T18:00:00+08:00"),  # Sun 04-27 调休
    ("2025-04-30T10:00:00+08:00", 1, "2025-05-06T18:00:00+08:00"),  # over Labour Day 2025
    ("2026-04-30T10:00:00+08:00", 1, "2026-05-06T18:00:00+08:00"),  # over Labour Day 2026
    ("2026-04-30T10:00:00+08:00", 4, "2026-05-09T18:00:00+08:00"),  # 05-06, 07, 08, Sat 05-09 调休
    # Before opening on a working day: that day counts as day 1.
    ("2025-09-26T08:59:00+08:00", 3, "2025-09-29T18:00:00+08:00"),  # 09-26, 09-28, 09-29
    ("2025-09-26T09:00:00+08:00", 3, "2025-09-30T18:00:00+08:00"),  # at opening: not before
    ("2025-09-28T07:00:00+08:00", 1, "2025-09-28T18:00:00+08:00"),  # 调休 Sunday morning counts
    ("2026-10-10T08:00:00+08:00", 2, "2026-10-12T18:00:00+08:00"),  # 调休 Saturday counts, Sun off, Mon
    # ... but not on a day off.
    ("2025-09-27T07:00:00+08:00", 1, "2025-09-28T18:00:00+08:00"),  # ordinary Saturday
    ("2025-10-01T07:00:00+08:00", 1, "2025-10-09T18:00:00+08:00"),  # National Day
    ("2026-09-25T08:00:00+08:00", 3, "2026-09-30T18:00:00+08:00"),  # Mid-Autumn Friday
    # The local date is the tenant's: 2025-09-29T02:00Z is Monday 10:00 in Shanghai (after opening).
    ("2025-09-29T02:00:00+00:00", 1, "2025-09-30T18:00:00+08:00"),
]


@pytest.mark.parametrize(("start", "amount", "expected"), WORKING_DAY_DEADLINES)
def test_due_at_working_days(start: str, amount: int, expected: str) -> None:
    result = SHANGHAI.due_at(dt(start), Duration(amount, DeadlineUnit.WORKING_DAYS))
    assert_local(result, expected, SHANGHAI)


TENANT_WORKING_DAY_DEADLINES = [
    # (tenant, start, working days, due, why)
    (closed_on("2025-09-29"), "2025-09-26T10:00:00+08:00", 3, "2025-10-09T18:00:00+08:00",
     "extra holiday shifts the deadline: 09-28, 09-30, 10-09"),
    (closed_on("2025-09-28"), "2025-09-26T10:00:00+08:00", 3, "2025-10-09T18:00:00+08:00",
     "tenant closed on the 调休 Sunday: 09-29, 09-30, 10-09"),
    (closed_on("2026-09-21"), "2026-09-18T10:00:00+08:00", 3, "2026-09-23T18:00:00+08:00",
     "extra holiday in 2026: 09-20, 09-22, 09-23"),
    (closed_on("2025-09-26"), "2025-09-26T08:00:00+08:00", 1, "2025-09-28T18:00:00+08:00",
     "before opening on a tenant closure does not count"),
    (open_on("2025-10-04"), "2025-09-30T10:00:00+08:00", 1, "2025-10-04T18:00:00+08:00",
     "extra workday inside National Day counts"),
    (open_on("2025-09-27"), "2025-09-26T10:00:00+08:00", 3, "2025-09-29T18:00:00+08:00",
     "extra workday Saturday counts: 09-27, 09-28, 09-29"),
    (TenantCalendar(business_hours=BusinessHours(time(8, 30), time(17, 0))),
     "2025-09-26T08:45:00+08:00", 3, "2025-09-30T17:00:00+08:00",
     "tenant hours: 08:45 is after an 08:30 opening, due at 17:00"),
    (TenantCalendar(business_hours=BusinessHours(time(8, 30), time(17, 0))),
     "2025-09-26T08:15:00+08:00", 3, "2025-09-29T17:00:00+08:00",
     "tenant hours: 08:15 is before an 08:30 opening"),
    (BERLIN, "2025-09-29T02:00:00+00:00", 1, "2025-09-29T18:00:00+02:00",
     "Berlin tenant: 04:00 local is before opening on Monday 09-29"),
    (BERLIN, "2025-09-26T10:00:00+02:00", 3, "2025-09-30T18:00:00+02:00",
     "Berlin tenant still follows the Chinese calendar incl. 调休 Sunday"),
]


@pytest.mark.parametrize(("calendar", "start", "amount", "expected", "why"), TENANT_WORKING_DAY_DEADLINES,
                         ids=[row[4] for row in TENANT_WORKING_DAY_DEADLINES])
def test_due_at_working_days_per_tenant(
    calendar: TenantCalendar, start: str, amount: int, expected: str, why: str
) -> None:
    result = calendar.due_at(dt(start), Duration(amount, DeadlineUnit.WORKING_DAYS))
    assert_local(result, expected, calendar)


# --- due_at: hours and calendar days ----------------------------------------------------------

HOUR_DEADLINES = [
    # (tenant, start, hours, due)
    (SHANGHAI, "2025-09-30T22:30:00+08:00", 4, "2025-10-01T02:30:00+08:00"),  # across midnight into a holiday
    (SHANGHAI, "2025-09-30T14:30:00+00:00", 4, "2025-10-01T02:30:00+08:00"),  # UTC start, answer in Shanghai
    (SHANGHAI, "2025-01-27T20:00:00+08:00", 48, "2025-01-29T20:00:00+08:00"),  # holidays do not stop the clock
    (SHANGHAI, "2026-12-31T23:00:00+08:00", 2, "2027-01-01T01:00:00+08:00"),  # into an uncovered year
    (BERLIN, "2025-03-29T12:00:00+01:00", 24, "2025-03-30T13:00:00+02:00"),    # elapsed hours across DST start
    (BERLIN, "2025-10-25T12:00:00+02:00", 24, "2025-10-26T11:00:00+01:00"),    # elapsed hours across DST end
]


@pytest.mark.parametrize(("calendar", "start", "amount", "expected"), HOUR_DEADLINES)
def test_due_at_hours_are_elapsed_hours(calendar: TenantCalendar, start: str, amount: int, expected: str) -> None:
    result = calendar.due_at(dt(start), Duration(amount, DeadlineUnit.HOURS))
    assert_local(result, expected, calendar)


CALENDAR_DAY_DEADLINES = [
    # (tenant, start, days, due)
    (SHANGHAI, "2025-09-30T10:00:00+08:00", 1, "2025-10-01T10:00:00+08:00"),  # holidays do not matter
    (SHANGHAI, "2025-09-30T20:00:00+00:00", 2, "2025-10-03T04:00:00+08:00"),  # UTC start = Oct 1 04:00 local
    (SHANGHAI, "2026-01-31T09:00:00+08:00", 30, "2026-03-02T09:00:00+08:00"),
    (SHANGHAI, "2025-02-28T23:59:00+08:00", 1, "2025-03-01T23:59:00+08:00"),
    (BERLIN, "2025-03-29T10:00:00+01:00", 1, "2025-03-30T10:00:00+02:00"),    # same wall clock, 23 h elapsed
    (BERLIN, "2025-10-25T10:00:00+02:00", 1, "2025-10-26T10:00:00+01:00"),    # same wall clock, 25 h elapsed
    (BERLIN, "2025-03-29T02:30:00+01:00", 1, "2025-03-30T03:30:00+02:00"),    # 02:30 does not exist: moves on
    (BERLIN, "2025-03-29T17:00:00+08:00", 1, "2025-03-30T10:00:00+02:00"),    # Shanghai start, Berlin wall clock
]


@pytest.mark.parametrize(("calendar", "start", "amount", "expected"), CALENDAR_DAY_DEADLINES)
def test_due_at_calendar_days_keep_the_local_wall_clock(
    calendar: TenantCalendar, start: str, amount: int, expected: str
) -> None:
    result = calendar.due_at(dt(start), Duration(amount, DeadlineUnit.CALENDAR_DAYS))
    assert_local(result, expected, calendar)


# --- "at 15:00" and "before 10:00" -------------------------------------------------------------

AT_TIME = [
    # (tenant, day, at, expected)
    (SHANGHAI, "2025-09-29", time(15), "2025-09-29T15:00:00+08:00"),  # working Monday: same day
    (SHANGHAI, "2025-09-28", time(15), "2025-09-28T15:00:00+08:00"),  # 调休 Sunday: same day
    (SHANGHAI, "2025-09-27", time(15), "2025-09-28T15:00:00+08:00"),  # Saturday -> 调休 Sunday
    (SHANGHAI, "2025-10-01", time(15), "2025-10-09T15:00:00+08:00"),  # National Day -> Oct 9
    (SHANGHAI, "2026-02-15", time(15), "2026-02-24T15:00:00+08:00"),  # Spring Festival 2026
    (SHANGHAI, "2026-09-25", time(15), "2026-09-28T15:00:00+08:00"),  # Mid-Autumn Friday
    (SHANGHAI, "2026-10-10", time(15), "2026-10-10T15:00:00+08:00"),  # 调休 Saturday: same day
    (closed_on("2025-09-29"), "2025-09-29", time(15), "2025-09-30T15:00:00+08:00"),
    (BERLIN, "2025-10-01", time(15), "2025-10-09T15:00:00+02:00"),
]


@pytest.mark.parametrize(("calendar", "day", "at", "expected"), AT_TIME)
def test_at_time_on_working_day(calendar: TenantCalendar, day: str, at: time, expected: str) -> None:
    assert_local(calendar.at_time_on_working_day(d(day), at), expected, calendar)


BEFORE_TIME = [
    # (tenant, start, at, expected)
    (SHANGHAI, "2025-09-29T08:00:00+08:00", time(10), "2025-09-29T10:00:00+08:00"),  # earlier the same day
    (SHANGHAI, "2025-09-29T10:00:00+08:00", time(10), "2025-09-30T10:00:00+08:00"),  # exactly at: next
    (SHANGHAI, "2025-09-29T11:00:00+08:00", time(10), "2025-09-30T10:00:00+08:00"),
    (SHANGHAI, "2025-09-30T11:00:00+08:00", time(10), "2025-10-09T10:00:00+08:00"),  # over National Day
    (SHANGHAI, "2025-09-27T08:00:00+08:00", time(10), "2025-09-28T10:00:00+08:00"),  # Sat -> 调休 Sunday
    (SHANGHAI, "2025-10-01T08:00:00+08:00", time(10), "2025-10-09T10:00:00+08:00"),  # early on a holiday
    (SHANGHAI, "2026-09-30T11:00:00+08:00", time(10), "2026-10-08T10:00:00+08:00"),
    (SHANGHAI, "2026-10-09T11:00:00+08:00", time(10), "2026-10-10T10:00:00+08:00"),  # -> 调休 Saturday
    (SHANGHAI, "2025-09-29T03:00:00+00:00", time(10), "2025-09-30T10:00:00+08:00"),  # 11:00 in Shanghai
    (SHANGHAI, "2025-09-28T23:30:00+00:00", time(7), "2025-09-30T07:00:00+08:00"),   # Mon 07:30 in Shanghai
    (closed_on("2025-09-30"), "2025-09-29T11:00:00+08:00", time(10), "2025-10-09T10:00:00+08:00"),
]


@pytest.mark.parametrize(("calendar", "start", "at", "expected"), BEFORE_TIME)
def test_before_on_working_day(calendar: TenantCalendar, start: str, at: time, expected: str) -> None:
    assert_local(calendar.before_on_working_day(dt(start), at), expected, calendar)


# --- settings --------------------------------------------------------------------------------

ROUND_TRIPS = [
    # (stored mapping, calendar, canonical mapping)
    ({}, TenantCalendar(),
     {"timezone": "Asia/Shanghai", "extra_holidays": [], "extra_workdays": [], "opens": "09:00", "closes": "18:00"}),
    ({"timezone": "Europe/Berlin",
      "extra_holidays": ["2026-05-06", "2025-12-31", "2026-05-06", "2026-01-05", "2025-10-09", "2026-12-24"],
      "extra_workdays": ["2025-10-04", "2025-09-27"], "opens": "08:30", "closes": "17:00"},
     TenantCalendar(timezone="Europe/Berlin",
                    extra_holidays=frozenset(map(d, ["2025-10-09", "2025-12-31", "2026-01-05", "2026-05-06", "2026-12-24"])),
                    extra_workdays=frozenset(map(d, ["2025-09-27", "2025-10-04"])),
                    business_hours=BusinessHours(time(8, 30), time(17))),
     {"timezone": "Europe/Berlin",
      "extra_holidays": ["2025-10-09", "2025-12-31", "2026-01-05", "2026-05-06", "2026-12-24"],
      "extra_workdays": ["2025-09-27", "2025-10-04"], "opens": "08:30", "closes": "17:00"}),
    ({"opens": "08:00"}, TenantCalendar(business_hours=BusinessHours(opens=time(8))),
     {"timezone": "Asia/Shanghai", "extra_holidays": [], "extra_workdays": [], "opens": "08:00", "closes": "18:00"}),
]


@pytest.mark.parametrize(("stored", "calendar", "canonical"), ROUND_TRIPS)
def test_from_mapping_to_mapping_round_trip(stored: dict, calendar: TenantCalendar, canonical: dict) -> None:
    assert TenantCalendar.from_mapping(stored) == calendar
    assert calendar.to_mapping() == canonical
    assert TenantCalendar.from_mapping(calendar.to_mapping()) == calendar


def _expect_error(action, code: str, field: str | None) -> None:
    with pytest.raises(KehuError) as caught:
        action()
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message_zh != caught.value.message_en


BAD_MAPPINGS = [
    ({"tz": "Asia/Shanghai"}, "tz"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": 8}, "timezone"),
    ({"extra_holidays": None}, "extra_holidays"),
    ({"extra_holidays": ["2026/05/06"]}, "extra_holidays"),
    ({"extra_holidays": ["20260506"]}, "extra_holidays"),
    ({"extra_holidays": ["2026-02-30"]}, "extra_holidays"),
    ({"extra_workdays": [20260506]}, "extra_workdays"),
    ({"opens": "9:00"}, "opens"),
    ({"opens": "09:00:00"}, "opens"),
    ({"closes": "25:00"}, "closes"),
    ({"opens": "18:00", "closes": "09:00"}, "closes"),
    ({"opens": "10:00", "closes": "10:00"}, "closes"),
]


@pytest.mark.parametrize(("stored", "field"), BAD_MAPPINGS)
def test_from_mapping_rejects_bad_settings(stored: dict, field: str) -> None:
    _expect_error(lambda: TenantCalendar.from_mapping(stored), "SETTING_INVALID", field)


NAIVE = datetime(2025, 9, 26, 10, 0)
VALIDATION = [
    # (what, action, code, field)
    ("zero amount", lambda: Duration(0, DeadlineUnit.HOURS), "DURATION_INVALID", "amount"),
    ("negative amount", lambda: Duration(-3, DeadlineUnit.WORKING_DAYS), "DURATION_INVALID", "amount"),
    ("bool amount", lambda: Duration(True, DeadlineUnit.HOURS), "DURATION_INVALID", "amount"),
    ("float amount", lambda: Duration(1.5, DeadlineUnit.HOURS), "DURATION_INVALID", "amount"),  # type: ignore[arg-type]
    ("text amount", lambda: Duration("3", DeadlineUnit.HOURS), "DURATION_INVALID", "amount"),  # type: ignore[arg-type]
    ("amount over the cap", lambda: Duration(MAX_DURATION_AMOUNT + 1, DeadlineUnit.CALENDAR_DAYS),
     "DURATION_INVALID", "amount"),
    ("unknown unit", lambda: Duration(3, "weeks"), "DURATION_INVALID", "unit"),  # type: ignore[arg-type]
    ("closes before opens", lambda: BusinessHours(time(18), time(9)), "SETTING_INVALID", "closes"),
    ("closes at opens", lambda: BusinessHours(time(9), time(9)), "SETTING_INVALID", "closes"),
    ("seconds in hours", lambda: BusinessHours(time(9, 0, 30)), "SETTING_INVALID", "opens"),
    ("unknown zone", lambda: TenantCalendar(timezone="Mars/Olympus"), "SETTING_INVALID", "timezone"),
    ("empty zone", lambda: TenantCalendar(timezone=""), "SETTING_INVALID", "timezone"),
    ("zone in wrong case", lambda: TenantCalendar(timezone="asia/shanghai"), "SETTING_INVALID", "timezone"),
    ("datetime as holiday", lambda: TenantCalendar(extra_holidays=frozenset({datetime(2025, 10, 1)})),
     "SETTING_INVALID", "extra_holidays"),
    ("naive start", lambda: SHANGHAI.due_at(NAIVE, Duration(1, DeadlineUnit.HOURS)), "DATE_INVALID", "start"),
    ("naive start, before", lambda: SHANGHAI.before_on_working_day(NAIVE, time(10)), "DATE_INVALID", "start"),
    ("zoned time of day", lambda: SHANGHAI.at_time_on_working_day(d("2025-09-29"), time(15, tzinfo=UTC)),
     "DATE_INVALID", "at"),
    ("zero working days", lambda: SHANGHAI.add_working_days(d("2025-09-26"), 0), "DURATION_INVALID", "amount"),
]


@pytest.mark.parametrize(("what", "action", "code", "field"), VALIDATION, ids=[row[0] for row in VALIDATION])
def test_validation_errors_carry_their_codes(what: str, action, code: str, field: str) -> None:
    _expect_error(action, code, field)


VALID = [
    ("smallest amount", lambda: Duration(1, DeadlineUnit.WORKING_DAYS).amount, 1),
    ("largest amount", lambda: Duration(MAX_DURATION_AMOUNT, DeadlineUnit.HOURS).amount, MAX_DURATION_AMOUNT),
    ("unit given as text", lambda: Duration(3, "hours").unit is DeadlineUnit.HOURS, True),  # type: ignore[arg-type]
    ("a list of dates becomes a frozenset", lambda: TenantCalendar(extra_holidays=[d("2025-10-09")]).extra_holidays,  # type: ignore[arg-type]
     frozenset({d("2025-10-09")})),
]


@pytest.mark.parametrize(("what", "action", "expected"), VALID, ids=[row[0] for row in VALID])
def test_valid_boundaries_are_accepted(what: str, action, expected: object) -> None:
    assert action() == expected
