"""The official schedule of working days, year by year, and where each year's comes from.

A year's schedule (:class:`YearSchedule`) lists its holidays (with names) and its 调休 make-up
working days; every other day is a working day from Monday to Friday and a rest day on Saturday
and Sunday. Each year comes from the first of:

1. ``loaded``: the State Council's schedule as loaded by an operator (``kehu calendar load``,
   stored platform-wide; see :mod:`core.calendar.schedules`);
2. ``library``: the data of the ``chinesecalendar`` package (2004 to the last year it knows);
3. ``provisional``: computed here by :func:`provisional_year` from the statutory holidays of the
   《全国年节及纪念日放假办法》 (as in force from 2025): 元旦 1 Jan; 春节 除夕 and the first three
   days of the first lunar month; 清明节 the day of the 清明 solar term; 劳动节 1-2 May; 端午节 the
   5th of the fifth lunar month; 中秋节 the 15th of the eighth lunar month; 国庆节 1-3 Oct. A
   statutory day falling on a Saturday or Sunday is made up on the first following Monday to
   Friday that is not itself a holiday (the 办法's art. 6 补假). No 调休 make-up working days are
   guessed: those are the State Council's yearly choice. Lunar dates and the solar term come from
   the ``borax`` lunar-calendar library.

Deadlines that count a provisional day say so (``provisional``) until the official schedule of
that year is loaded. Everything here is pure: nothing reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

import chinese_calendar
from borax.calendars.lunardate import LunarDate, TermUtils

LOADED, LIBRARY, PROVISIONAL = "loaded", "library", "provisional"

# The names chinesecalendar gives its holidays, in Chinese.
_LIBRARY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节", "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True, slots=True, eq=False)
class YearSchedule:
    """One year: its holidays (date → name) and make-up working days (date → the holiday it makes
    up for); ``source`` is ``loaded``, ``library`` or ``provisional``."""

    year: int
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    source: str
    notice: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        object.__setattr__(self, "workdays", MappingProxyType(dict(self.workdays)))

    @property
    def provisional(self) -> bool:
        return self.source == PROVISIONAL

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def to_mapping(self) -> dict[str, object]:
        return {"year": self.year, "notice": self.notice,
                "holidays": {d.isoformat(): n for d, n in sorted(self.holidays.items())},
                "workdays": {d.isoformat(): n for d, n in sorted(self.workdays.items())}}


def statutory_days(year: int) -> dict[date, str]:
    """The statutory holidays of ``year`` under the 2025 rule (see the module text); lunar dates
    outside the lunar library's range (1900-2100) are left out."""
    days: dict[date, str] = {}

    def add(day: date, name: str) -> None:
        if day.year == year:
            days[day] = f"{days[day]}、{name}" if day in days and name not in days[day] else name

    add(date(year, 1, 1), "元旦")
    try:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        for offset in range(-1, 3):
            add(new_year + timedelta(days=offset), "春节")
        add(TermUtils.nth_term_day(year, term_name="清明"), "清明节")
        add(LunarDate(year, 5, 5).to_solar_date(), "端午节")
        add(LunarDate(year, 8, 15).to_solar_date(), "中秋节")
    except (ValueError, KeyError, IndexError, TypeError, OverflowError):  # outside the library's years
        pass
    for day, name in ((date(year, 5, 1), "劳动节"), (date(year, 5, 2), "劳动节"),
                      (date(year, 10, 1), "国庆节"), (date(year, 10, 2), "国庆节"), (date(year, 10, 3), "国庆节")):
        add(day, name)
    return days


@lru_cache(maxsize=256)
def provisional_year(year: int) -> YearSchedule:
    """The schedule kehu assumes for a year with no official data (see the module text)."""
    holidays = statutory_days(year)
    for day in sorted(holidays):
        if day.weekday() < 5:
            continue
        makeup = day + timedelta(days=1)
        while makeup.weekday() >= 5 or makeup in holidays:
            makeup += timedelta(days=1)
        if makeup.year == year:
            holidays[makeup] = f"{holidays[day]}（补假）"
    return YearSchedule(year, holidays, {}, PROVISIONAL)


@lru_cache(maxsize=256)
def library_year(year: int) -> YearSchedule | None:
    """The year as the ``chinesecalendar`` package knows it, or None when it does not."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except (NotImplementedError, ValueError, OverflowError):
        return None
    holidays = {d: _LIBRARY_NAMES.get(n, n) for d, n in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d: _LIBRARY_NAMES.get(n, n) for d, n in chinese_calendar.workdays.items() if d.year == year}
    return YearSchedule(year, holidays, workdays, LIBRARY)


@dataclass(frozen=True, slots=True, eq=False)
class OfficialCalendar:
    """The national calendar: loaded years first, then the library's, then provisional ones."""

    loaded: Mapping[int, YearSchedule] = field(default_factory=dict)

    def year(self, year: int) -> YearSchedule:
        return self.loaded.get(year) or library_year(year) or provisional_year(year)

    def is_workday(self, day: date) -> bool:
        return self.year(day.year).is_workday(day)

    def is_provisional(self, day: date) -> bool:
        return self.year(day.year).provisional

    def provisional_days(self, first: date, last: date) -> Iterator[date]:
        """The days from ``first`` to ``last`` (both included) whose year is provisional."""
        day = first
        while day <= last:
            if self.year(day.year).provisional:
                yield day
                day += timedelta(days=1)
            else:
                try:
                    day = date(day.year + 1, 1, 1)
                except ValueError:
                    return


NATIONAL = OfficialCalendar()
