"""Deadlines on the official Chinese calendar: hours, calendar days or working days.

Working days follow the State Council's yearly holiday notice (国务院办公厅关于部分节假日安排的通知),
including the 调休 make-up working days that fall on weekends: as loaded by an operator, else as
published in the ``chinesecalendar`` package, else a provisional schedule computed from the
statutory holidays (see :mod:`core.calendar.official`); a deadline that counted provisional days
says so (:class:`Deadline`). On top of it each tenant may
declare its own closures (``extra_holidays``) and, rarely, its own extra working days
(``extra_workdays``), and its business hours for rules like "before 10:00" or "at 15:00".

Everything here is a pure function of its arguments: core keeps a tenant's calendar settings
elsewhere (see :meth:`TenantCalendar.from_mapping` / :meth:`TenantCalendar.to_mapping`) and passes
them in. Nothing reads the clock, the database or the environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.calendar.official import NATIONAL, OfficialCalendar
from core.errors import KehuError

DEFAULT_TIMEZONE = "Asia/Shanghai"

#: The largest ``Duration.amount`` accepted, whatever the unit. 10,000 working days is about
#: 40 years and 10,000 hours about 14 months; anything larger is a typo, and refusing it keeps the
#: working-day walk bounded and away from ``date.max``.
MAX_DURATION_AMOUNT = 10_000

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HH_MM = re.compile(r"[0-9]{2}:[0-9]{2}")
_MAPPING_KEYS = ("timezone", "extra_holidays", "extra_workdays", "opens", "closes")


class DeadlineUnit(StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


def _setting_invalid(key: str, message_en: str, message_zh: str) -> KehuError:
    return KehuError("SETTING_INVALID", message_en, message_zh, field=key)


@dataclass(frozen=True, slots=True)
class Duration:
    """How long until a deadline: ``amount`` (1 to :data:`MAX_DURATION_AMOUNT`) of ``unit``."""

    amount: int
    unit: DeadlineUnit

    def __post_init__(self) -> None:
        amount = self.amount
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_DURATION_AMOUNT:
            raise KehuError("DURATION_INVALID",
                            f"a duration is a whole number from 1 to {MAX_DURATION_AMOUNT}",
                            f"期限须为 1 至 {MAX_DURATION_AMOUNT} 的整数", field="amount")
        try:
            unit = DeadlineUnit(self.unit)
        except ValueError:
            allowed = ", ".join(u.value for u in DeadlineUnit)
            raise KehuError("DURATION_INVALID", f"a duration unit is one of {allowed}",
                            f"期限单位须为以下之一：{allowed}", field="unit") from None
        object.__setattr__(self, "unit", unit)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """A tenant's opening hours (local wall-clock, whole minutes); ``closes`` is after ``opens``."""

    opens: time = time(9, 0)
    closes: time = time(18, 0)

    def __post_init__(self) -> None:
        for key in ("opens", "closes"):
            value = getattr(self, key)
            if (not isinstance(value, time) or value.tzinfo is not None
                    or value.second or value.microsecond):
                raise _setting_invalid(key, f"{key} must be a local time of day in whole minutes (HH:MM)",
                                       f"{key} 须为以整分钟表示的本地时间（HH:MM）")
        if self.closes <= self.opens:
            raise _setting_invalid("closes", "business hours must close after they open",
                                   "营业结束时间须晚于开始时间")


def _zone(name: object) -> ZoneInfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            pass
    raise _setting_invalid("timezone", f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)",
                           f"未知的时区 {name!r}（请使用 IANA 时区名，例如 Asia/Shanghai）")


def _date_set(key: str, values: object) -> frozenset[date]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise _setting_invalid(key, f"{key} must be a list of dates", f"{key} 须为日期列表")
    try:
        days = frozenset(values)
    except TypeError:
        raise _setting_invalid(key, f"{key} must be a list of dates", f"{key} 须为日期列表") from None
    for day in days:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise _setting_invalid(key, f"{key} must hold dates, got {day!r}", f"{key} 须为日期，实际为 {day!r}")
    return days


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed deadline; ``provisional`` when it counted days of a year whose official schedule
    is not known yet (it may move once the schedule is loaded)."""

    at: datetime
    provisional: bool = False


def _at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``at`` on ``day`` in ``zone``; a wall-clock time skipped by a DST change moves forward."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def _aware(start: object, key: str = "start") -> datetime:
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise KehuError("DATE_INVALID", f"{key} must be a date and time with a time zone",
                        f"{key} 须为带时区的日期时间", field=key)
    return start


def _local_time(at: object) -> time:
    if not isinstance(at, time) or at.tzinfo is not None:
        raise KehuError("DATE_INVALID", "the time of day must be a local time without a time zone",
                        "时刻须为不带时区的本地时间", field="at")
    return at


@dataclass(frozen=True, slots=True)
class TenantCalendar:
    """One tenant's working calendar.

    A day is a working day when it is in ``extra_workdays``; otherwise not when it is in
    ``extra_holidays``; otherwise as the official Chinese calendar ``official`` says (weekends are
    off except the 调休 make-up working days; statutory holidays are off). For a year with neither
    a loaded schedule nor ``chinesecalendar`` data, ``official`` uses a provisional schedule
    (statutory holidays with their 补假, no make-up working days) and the days of that year are
    *provisional*: :meth:`deadline` says so. ``official`` is not a tenant setting and takes no part
    in equality.
    """

    timezone: str = DEFAULT_TIMEZONE
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    official: OfficialCalendar = field(default=NATIONAL, compare=False, repr=False)

    def __post_init__(self) -> None:
        _zone(self.timezone)
        object.__setattr__(self, "extra_holidays", _date_set("extra_holidays", self.extra_holidays))
        object.__setattr__(self, "extra_workdays", _date_set("extra_workdays", self.extra_workdays))
        if not isinstance(self.business_hours, BusinessHours):
            raise _setting_invalid("business_hours", "business_hours must be BusinessHours", "营业时间设置无效")
        if not isinstance(self.official, OfficialCalendar):
            raise _setting_invalid("official", "official must be an OfficialCalendar", "官方日历无效")

    # --- settings -------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], official: OfficialCalendar = NATIONAL) -> TenantCalendar:
        """Read stored settings: ``{"timezone": "Asia/Shanghai", "extra_holidays": ["2026-05-06"],
        "extra_workdays": [...], "opens": "09:00", "closes": "18:00"}``; every key is optional.
        Unknown keys and bad values raise ``SETTING_INVALID`` naming the key."""
        if not isinstance(data, Mapping):
            raise KehuError("SETTING_INVALID", "calendar settings must be a mapping", "日历设置须为键值对")
        for key in data:
            if key not in _MAPPING_KEYS:
                raise _setting_invalid(str(key), f"unknown calendar setting {key!r}", f"未知的日历设置 {key!r}")
        kwargs: dict[str, object] = {"official": official}
        if "timezone" in data:
            kwargs["timezone"] = data["timezone"]
        for key in ("extra_holidays", "extra_workdays"):
            if key in data:
                kwargs[key] = frozenset(_parse_date(key, item) for item in _as_list(key, data[key]))
        hours = {key: _parse_time(key, data[key]) for key in ("opens", "closes") if key in data}
        if hours:
            kwargs["business_hours"] = BusinessHours(**hours)  # type: ignore[arg-type]
        return cls(**kwargs)  # type: ignore[arg-type]

    def to_mapping(self) -> dict[str, object]:
        """The settings as stored: JSON-ready, dates sorted, times as ``HH:MM``."""
        return {
            "timezone": self.timezone,
            "extra_holidays": sorted(day.isoformat() for day in self.extra_holidays),
            "extra_workdays": sorted(day.isoformat() for day in self.extra_workdays),
            "opens": self.business_hours.opens.strftime("%H:%M"),
            "closes": self.business_hours.closes.strftime("%H:%M"),
        }

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    # --- days -----------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """``extra_workdays`` wins, then ``extra_holidays``, then the official calendar (which knows
        the 调休 weekends). Outside the years the ``chinesecalendar`` package covers, the official
        calendar is taken to be Monday–Friday; this never raises for such dates."""
        if isinstance(day, datetime):
            day = day.date()
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        return self.official.is_workday(day)

    def is_provisional(self, day: date) -> bool:
        """Whether ``day`` is classified by a provisional schedule (a day the tenant lists itself in
        ``extra_holidays`` or ``extra_workdays`` is not)."""
        if isinstance(day, datetime):
            day = day.date()
        if day in self.extra_workdays or day in self.extra_holidays:
            return False
        return self.official.is_provisional(day)

    def provisional_days(self, first: date, last: date) -> list[date]:
        """The provisional days from ``first`` to ``last``, both included."""
        return [day for day in self.official.provisional_days(first, last) if self.is_provisional(day)]

    def crosses_provisional(self, start: date | datetime, end: date | datetime) -> bool:
        """Whether any day from ``start`` to ``end`` (local dates, both included) is provisional."""
        first = start.astimezone(self.zone).date() if isinstance(start, datetime) else start
        last = end.astimezone(self.zone).date() if isinstance(end, datetime) else end
        return any(True for day in self.official.provisional_days(first, last) if self.is_provisional(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself is not counted), ``n >= 1``."""
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_DURATION_AMOUNT:
            raise KehuError("DURATION_INVALID", f"a number of working days is from 1 to {MAX_DURATION_AMOUNT}",
                            f"工作日数须为 1 至 {MAX_DURATION_AMOUNT} 的整数", field="amount")
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    # --- deadlines ------------------------------------------------------------------------

    def due_at(self, start: datetime, duration: Duration) -> datetime:
        """When something started at ``start`` (timezone-aware, else ``DATE_INVALID``) is due;
        the result is in the tenant's zone.

        - ``HOURS``: ``start`` plus that many elapsed hours (holidays and DST do not matter).
        - ``CALENDAR_DAYS``: the same local wall-clock time that many days later (a time skipped
          by a DST change moves forward to the first valid instant).
        - ``WORKING_DAYS``: closing time (``business_hours.closes``) on the n-th working day after
          the start's local date. If the start is on a working day *before* opening time, that day
          counts as day 1: a complaint received on a working morning before opening has that day
          counted. Otherwise (at or after opening, or on a non-working day) counting starts with
          the next working day.
        """
        start = _aware(start)
        if not isinstance(duration, Duration):
            raise KehuError("DURATION_INVALID", "a deadline needs a duration", "期限设置无效", field="duration")
        zone = self.zone
        n = duration.amount
        try:
            if duration.unit is DeadlineUnit.HOURS:
                return (start.astimezone(UTC) + timedelta(hours=n)).astimezone(zone)
            local = start.astimezone(zone)
            if duration.unit is DeadlineUnit.CALENDAR_DAYS:
                return _at(local.date() + timedelta(days=n), local.time(), zone)
            day = local.date()
            hours = self.business_hours
            if self.is_working_day(day) and start < _at(day, hours.opens, zone):
                due_day = day if n == 1 else self.add_working_days(day, n - 1)
            else:
                due_day = self.add_working_days(day, n)
            return _at(due_day, hours.closes, zone)
        except OverflowError:
            raise KehuError("DATE_INVALID", "the deadline is out of range", "期限超出范围", field="start") from None

    def deadline(self, start: datetime, duration: Duration) -> Deadline:
        """:meth:`due_at` and whether it is provisional: a working-day deadline is when a day from
        the start's local date to the due date is provisional (hours and calendar days never are)."""
        at = self.due_at(start, duration)
        provisional = (duration.unit is DeadlineUnit.WORKING_DAYS
                       and self.crosses_provisional(start.astimezone(self.zone).date(), at.date()))
        return Deadline(at, provisional)

    def at_time_on_working_day(self, day: date, at: time) -> datetime:
        """``at`` (local) on ``day`` if it is a working day, else on the next working day ("at 15:00")."""
        at = _local_time(at)
        if isinstance(day, datetime):
            day = day.date()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
        return _at(day, at, self.zone)

    def before_on_working_day(self, start: datetime, at: time) -> datetime:
        """"Before 10:00": the first moment ``at`` (local) on a working day that is strictly after
        ``start``; the same day if ``start`` is a working day earlier than ``at``."""
        start = _aware(start)
        at = _local_time(at)
        zone = self.zone
        day = start.astimezone(zone).date()
        if self.is_working_day(day):
            candidate = _at(day, at, zone)
            if candidate > start:
                return candidate
        return _at(self.next_working_day(day), at, zone)


def _as_list(key: str, value: object) -> list[object]:
    if not isinstance(value, (list, tuple)):
        raise _setting_invalid(key, f"{key} must be a list of YYYY-MM-DD dates", f"{key} 须为 YYYY-MM-DD 日期列表")
    return list(value)


def _parse_date(key: str, value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _setting_invalid(key, f"{key} holds {value!r}, not a YYYY-MM-DD date", f"{key} 中的 {value!r} 不是 YYYY-MM-DD 日期")


def _parse_time(key: str, value: object) -> time:
    if isinstance(value, str) and _HH_MM.fullmatch(value):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise _setting_invalid(key, f"{key} must be a time HH:MM, got {value!r}", f"{key} 须为 HH:MM 时间，实际为 {value!r}")
