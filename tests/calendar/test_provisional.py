"""The working-day calendar past the library's data (issue 18 point 11): provisional schedules for
years neither loaded nor in ``chinesecalendar``, the schedule file's validation, and loaded years
replacing provisional ones. Pure: no database, no clock.

Expected dates are written out by hand: 2027-01-01 is a Friday; 春节 2027 (正月初一) is Saturday
2027-02-06, so 除夕 is Friday 02-05 and 初三 Monday 02-08; Saturday 02-06 and Sunday 02-07 are
made up (补假) on Tuesday 02-09 and Wednesday 02-10.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.calendar import DeadlineUnit, Duration, TenantCalendar
from core.calendar.official import LIBRARY, PROVISIONAL, OfficialCalendar, library_year, provisional_year
from core.calendar.schedule_file import parse_schedule
from core.calendar.schedules import provisional_warning
from core.errors import KehuError

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXTURE = Path(__file__).parent / "fixtures" / "schedule-2027-test.json"
EXAMPLE = Path(__file__).parents[2] / "docs" / "calendar-schedule.example.json"


def test_ten_working_days_from_christmas_eve_2026_skip_new_years_day_2027():
    """Issue 18 point 11: a 10-working-day deadline set on 2026-12-24 no longer counts 2027-01-01
    (元旦, a Friday) as a working day, and it says it is provisional."""
    calendar = TenantCalendar()
    start = datetime(2026, 12, 24, 10, 0, tzinfo=SHANGHAI)
    assert not calendar.is_working_day(date(2027, 1, 1))
    deadline = calendar.deadline(start, Duration(10, DeadlineUnit.WORKING_DAYS))
    # Dec 25, 28, 29, 30, 31, (Jan 1 off), Jan 4, 5, 6, 7, 8
    assert deadline.at == datetime(2027, 1, 8, 18, 0, tzinfo=SHANGHAI)
    assert deadline.provisional is True
    assert calendar.due_at(start, Duration(10, DeadlineUnit.WORKING_DAYS)) == deadline.at


def test_a_deadline_within_library_years_is_not_provisional():
    """Issue 18 point 11: only deadlines that count provisional days say so; hours and calendar days never do."""
    calendar = TenantCalendar()
    start = datetime(2026, 12, 24, 10, 0, tzinfo=SHANGHAI)
    assert calendar.deadline(start, Duration(4, DeadlineUnit.WORKING_DAYS)).provisional is False
    assert calendar.deadline(start, Duration(30, DeadlineUnit.CALENDAR_DAYS)).provisional is False
    assert calendar.deadline(start, Duration(500, DeadlineUnit.HOURS)).provisional is False
    assert calendar.crosses_provisional(date(2026, 12, 30), date(2027, 1, 1))
    assert not calendar.crosses_provisional(date(2026, 1, 1), date(2026, 12, 31))


def test_spring_festival_week_2027_is_not_five_working_days():
    """Issue 18 point 11: under the provisional schedule the Spring Festival week of 2027 (Mon 02-08
    to Fri 02-12) has two working days, and 除夕 Friday 02-05 is off."""
    calendar = TenantCalendar()
    week = [date(2027, 2, 8) + timedelta(days=i) for i in range(5)]
    assert [day for day in week if calendar.is_working_day(day)] == [date(2027, 2, 11), date(2027, 2, 12)]
    assert not calendar.is_working_day(date(2027, 2, 5))
    assert all(calendar.is_provisional(day) for day in week)


def test_the_provisional_schedule_names_the_statutory_holidays_and_their_makeup_days():
    """Issue 18 point 11: fixed-date holidays, the lunar ones and 清明 (solar term), with 补假 for
    statutory days on weekends; no make-up working days are guessed."""
    schedule = provisional_year(2027)
    assert schedule.source == PROVISIONAL and dict(schedule.workdays) == {}
    expected = {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节", date(2027, 2, 6): "春节", date(2027, 2, 7): "春节", date(2027, 2, 8): "春节",
        date(2027, 2, 9): "春节（补假）", date(2027, 2, 10): "春节（补假）",
        date(2027, 4, 5): "清明节",  # 清明 solar term, a Monday
        date(2027, 5, 1): "劳动节", date(2027, 5, 2): "劳动节",  # Saturday and Sunday
        date(2027, 5, 3): "劳动节（补假）", date(2027, 5, 4): "劳动节（补假）",
        date(2027, 6, 9): "端午节",  # 五月初五, a Wednesday
        date(2027, 9, 15): "中秋节",  # 八月十五, a Wednesday
        date(2027, 10, 1): "国庆节", date(2027, 10, 2): "国庆节", date(2027, 10, 3): "国庆节",
        date(2027, 10, 4): "国庆节（补假）", date(2027, 10, 5): "国庆节（补假）",
    }
    assert dict(schedule.holidays) == expected


def test_library_years_keep_the_library_and_the_statutory_days_agree_with_it():
    """Issue 18 point 11: 2026 still comes from chinesecalendar, and every day the provisional rule
    calls statutory in 2025 and 2026 is a holiday in the library's (official) data."""
    assert OfficialCalendar().year(2026).source == LIBRARY
    assert OfficialCalendar().year(2027).source == PROVISIONAL
    for year in (2025, 2026):
        official = library_year(year)
        statutory = {d for d, name in provisional_year(year).holidays.items() if "补假" not in name}
        assert statutory <= set(official.holidays)


def test_tenant_holidays_still_apply_on_top_of_a_provisional_year():
    """Issue 18 point 11: a tenant's own closure and working day win over the provisional schedule,
    and a day the tenant classifies itself is not provisional."""
    calendar = TenantCalendar(extra_holidays={date(2027, 1, 4)}, extra_workdays={date(2027, 2, 9)})
    assert not calendar.is_working_day(date(2027, 1, 4)) and not calendar.is_provisional(date(2027, 1, 4))
    assert calendar.is_working_day(date(2027, 2, 9)) and not calendar.is_provisional(date(2027, 2, 9))
    start = datetime(2026, 12, 24, 10, 0, tzinfo=SHANGHAI)
    assert calendar.due_at(start, Duration(10, DeadlineUnit.WORKING_DAYS)) == datetime(2027, 1, 11, 18, 0,
                                                                                       tzinfo=SHANGHAI)


def test_a_loaded_official_schedule_replaces_the_provisional_days():
    """Issue 18 point 11: once 2027's schedule is loaded its days are official (not provisional),
    its make-up working days count and its holidays replace the provisional ones."""
    loaded = parse_schedule(FIXTURE.read_text(encoding="utf-8"))
    calendar = TenantCalendar(official=OfficialCalendar({2027: loaded}))
    assert not calendar.is_provisional(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 2, 20))  # a Saturday, make-up working day
    assert not calendar.is_working_day(date(2027, 2, 11))  # provisional said working; the file says off
    start = datetime(2026, 12, 24, 10, 0, tzinfo=SHANGHAI)
    deadline = calendar.deadline(start, Duration(10, DeadlineUnit.WORKING_DAYS))
    assert deadline == type(deadline)(datetime(2027, 1, 8, 18, 0, tzinfo=SHANGHAI), False)
    assert provisional_warning(OfficialCalendar({2027: loaded}), date(2026, 12, 3)) is None


def test_the_warning_names_the_first_provisional_day_within_90_days():
    """Issue 18 point 11: the next 90 days from 2026-12-03 hold 2027, which is provisional; from
    2026-06-01 they do not."""
    warning = provisional_warning(OfficialCalendar(), date(2026, 12, 3))
    assert warning is not None and warning["provisional_from"] == "2027-01-01" and warning["years"] == [2027]
    assert "kehu calendar load" in warning["message"]
    assert provisional_warning(OfficialCalendar(), date(2026, 6, 1)) is None


def test_the_documented_example_file_is_valid():
    """Issue 18 point 11: the example under docs/ is a valid file (and says it is only an example)."""
    example = parse_schedule(EXAMPLE.read_text(encoding="utf-8"))
    assert example.year == 2027 and "NOT the State Council" in example.notice


def _file(**changes):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data, ensure_ascii=False, indent=2)


@pytest.mark.parametrize("text, field, words", [
    ('{"year": 2027,\n "holidays": [}', "file", "line 2"),
    (_file(year="2027"), "year", "year is a whole number"),
    (_file(colour="red"), "colour", "unknown key"),
    (_file(workdays=["2027-02-22"]), "workdays[0].date", "2027-02-22 is a Monday"),
    (_file(workdays=["2028-02-19"]), "workdays[0].date", "not a day of 2027"),
    (_file(workdays=["2027-02-13"]), "workdays[0].date", "listed twice"),
    (_file(holidays=[{"name": "元旦", "from": "2027-01-01"}, {"name": "x", "from": "2027-02-30"}]),
     "holidays[1].from", "not a YYYY-MM-DD date"),
    (_file(holidays=[{"name": "元旦", "from": "2027-01-03", "to": "2027-01-01"}]), "holidays[0].to", "before it starts"),
    (_file(holidays=[{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"},
                     {"name": "again", "from": "2027-01-03"}]), "holidays[1]", "2027-01-03 is listed twice"),
    (_file(holidays=[{"name": "", "from": "2027-01-01"}]), "holidays[0].name", "a name"),
    (_file(holidays=[{"name": "元旦", "from": "2027-01-01"}]), "holidays", "2027-02-05 (春节) is a statutory holiday"),
])
def test_a_bad_file_is_refused_naming_the_entry_line_and_day(text, field, words):
    """Issue 18 point 11: validation (dates of that year, make-up days on weekends, nothing twice,
    every statutory holiday listed) raises CALENDAR_FILE_INVALID naming where and which day."""
    with pytest.raises(KehuError) as refused:
        parse_schedule(text)
    assert refused.value.code == "CALENDAR_FILE_INVALID" and refused.value.field == field
    assert words in refused.value.message_en


def test_an_error_names_the_line_of_the_file():
    """Issue 18 point 11: the line of the offending day is named."""
    text = _file(workdays=["2027-02-22"])
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "2027-02-22" in row)
    with pytest.raises(KehuError) as refused:
        parse_schedule(text)
    assert refused.value.message_en.startswith(f"line {line}, workdays[0].date")


def test_every_provisional_year_to_2100_would_pass_the_file_validation():
    """Issue 18 point 11: the provisional rule and the file validation agree: written out as a file,
    each provisional year from 2027 to 2100 is accepted and read back day for day (the lunar
    library covers them all: Spring Festival, 清明, 端午 and 中秋 every year)."""
    for year in range(2027, 2101):
        schedule = provisional_year(year)
        assert {name for name in schedule.holidays.values()} >= {"元旦", "春节", "清明节", "劳动节", "端午节", "国庆节"}
        text = json.dumps({"year": year, "holidays": [{"name": n, "from": d.isoformat()}
                                                       for d, n in sorted(schedule.holidays.items())]})
        assert dict(parse_schedule(text).holidays) == dict(schedule.holidays)
