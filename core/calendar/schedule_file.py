"""The file an operator loads with ``kehu calendar load``: one year of the State Council's holiday
schedule (国务院办公厅关于部分节假日安排的通知), in JSON (UTF-8)::

    {
      "year": 2027,
      "notice": "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔…〕…号）",
      "holidays": [
        {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"},
        {"name": "清明节", "from": "2027-04-05"}
      ],
      "workdays": [
        {"date": "2027-02-20", "name": "春节"}
      ]
    }

``holidays`` are the rest days, each a named range (``to`` defaults to ``from``); ``workdays`` are
the 调休 make-up working days (``name``: the holiday they make up for; a bare ``"YYYY-MM-DD"`` is
accepted too). Every other day is classified by the week: Monday to Friday work, Saturday and
Sunday rest. So every day of the year is classified, and validation checks that the file is a
plausible schedule of that year:

- every date is a real ``YYYY-MM-DD`` date of ``year``; a range does not run backwards;
- no day is listed twice (as two holidays, or as both a holiday and a working day);
- every make-up working day falls on a Saturday or Sunday (any other day already works);
- from 2025 on, every statutory holiday of the year (:func:`core.calendar.official.statutory_days`)
  is a holiday: a file of the wrong year, or one that forgets a festival, is refused.

A refused file raises ``CALENDAR_FILE_INVALID`` naming the entry, the line of the file and the day.
"""

from __future__ import annotations

import json
import re
from datetime import date

from core.calendar.official import LOADED, YearSchedule, statutory_days
from core.errors import KehuError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KEYS = {"year", "notice", "holidays", "workdays"}
FIRST_CHECKED_YEAR = 2025  # the statutory holidays of the current 《全国年节及纪念日放假办法》
MAX_NAME = 100


def _line(text: str, needle: str | None) -> int | None:
    if not needle:
        return None
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _invalid(text: str, where: str, needle: str | None, en: str, zh: str) -> KehuError:
    line = _line(text, needle)
    place = f"line {line}, {where}" if line else where
    place_zh = f"第 {line} 行 {where}" if line else where
    return KehuError("CALENDAR_FILE_INVALID", f"{place}: {en}", f"{place_zh}：{zh}", field=where)


def parse_schedule(text: str) -> YearSchedule:
    """Read and validate a schedule file's text; see the module text for the format and checks."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KehuError("CALENDAR_FILE_INVALID", f"line {exc.lineno}: not valid JSON ({exc.msg})",
                        f"第 {exc.lineno} 行：不是有效的 JSON（{exc.msg}）", field="file") from None
    if not isinstance(data, dict):
        raise _invalid(text, "file", None, "the file holds one object with year, holidays and workdays",
                       "文件须为包含 year、holidays、workdays 的对象")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _invalid(text, unknown[0], f'"{unknown[0]}"', f"unknown key {unknown[0]!r}", f"未知的键 {unknown[0]!r}")
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1949 < year < 2200:
        raise _invalid(text, "year", '"year"', "year is a whole number such as 2027", "year 须为年份整数，例如 2027")
    notice = data.get("notice", "")
    if not isinstance(notice, str) or len(notice) > 500:
        raise _invalid(text, "notice", '"notice"', "notice is a text of at most 500 characters",
                       "notice 须为不超过 500 字的文本")
    holidays_in, workdays_in = data.get("holidays"), data.get("workdays", [])
    if not isinstance(holidays_in, list) or not holidays_in:
        raise _invalid(text, "holidays", '"holidays"', "holidays is a non-empty list", "holidays 须为非空列表")
    if not isinstance(workdays_in, list):
        raise _invalid(text, "workdays", '"workdays"', "workdays is a list", "workdays 须为列表")

    def day_of(where: str, value: object) -> date:
        needle = value if isinstance(value, str) else None
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                if day.year != year:
                    raise _invalid(text, where, needle, f"{value} is not a day of {year}",
                                   f"{value} 不是 {year} 年的日期")
                return day
        raise _invalid(text, where, needle, f"{value!r} is not a YYYY-MM-DD date",
                       f"{value!r} 不是 YYYY-MM-DD 日期")

    def name_of(where: str, entry: dict, required: bool) -> str:
        name = entry.get("name", "")
        if not isinstance(name, str) or len(name) > MAX_NAME or (required and not name.strip()):
            raise _invalid(text, where, None, f"a name of 1 to {MAX_NAME} characters is needed",
                           f"须有 1 至 {MAX_NAME} 字的名称")
        return name.strip()

    holidays: dict[date, str] = {}
    for index, entry in enumerate(holidays_in):
        where = f"holidays[{index}]"
        if not isinstance(entry, dict) or set(entry) - {"name", "from", "to"} or "from" not in entry:
            raise _invalid(text, where, None, 'a holiday is {"name": ..., "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}',
                           '节假日须为 {"name": ..., "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}')
        name = name_of(f"{where}.name", entry, True)
        first = day_of(f"{where}.from", entry["from"])
        last = day_of(f"{where}.to", entry.get("to", entry["from"]))
        if last < first:
            raise _invalid(text, f"{where}.to", str(entry.get("to")), f"the range ends ({last}) before it starts ({first})",
                           f"结束日期（{last}）早于开始日期（{first}）")
        for ordinal in range(first.toordinal(), last.toordinal() + 1):
            day = date.fromordinal(ordinal)
            if day in holidays:
                raise _invalid(text, where, str(entry["from"]), f"{day} is listed twice", f"{day} 重复列出")
            holidays[day] = name

    workdays: dict[date, str] = {}
    for index, entry in enumerate(workdays_in):
        where = f"workdays[{index}]"
        if isinstance(entry, str):
            entry = {"date": entry}
        if not isinstance(entry, dict) or set(entry) - {"name", "date"} or "date" not in entry:
            raise _invalid(text, where, None, 'a make-up working day is {"date": "YYYY-MM-DD", "name": ...}',
                           '调休工作日须为 {"date": "YYYY-MM-DD", "name": ...}')
        day = day_of(f"{where}.date", entry["date"])
        if day.weekday() < 5:
            raise _invalid(text, f"{where}.date", entry["date"],
                           f"{day} is a {day.strftime('%A')}: a make-up working day falls on a Saturday or Sunday",
                           f"{day} 不是周六或周日：调休工作日须在周末")
        if day in holidays or day in workdays:
            raise _invalid(text, f"{where}.date", entry["date"], f"{day} is listed twice", f"{day} 重复列出")
        workdays[day] = name_of(f"{where}.name", entry, False)

    if year >= FIRST_CHECKED_YEAR:
        for day, name in sorted(statutory_days(year).items()):
            if day not in holidays:
                raise _invalid(text, "holidays", None,
                               f"{day} ({name}) is a statutory holiday of {year} but is not listed as a holiday",
                               f"{day}（{name}）是 {year} 年的法定节假日，但未列为假日")
    return YearSchedule(year, holidays, workdays, LOADED, notice.strip())


def schedule_from_stored(year: int, holidays: str, workdays: str, notice: str) -> YearSchedule:
    """A loaded year as stored (JSON objects date → name)."""
    return YearSchedule(year, {date.fromisoformat(d): n for d, n in json.loads(holidays).items()},
                        {date.fromisoformat(d): n for d, n in json.loads(workdays).items()}, LOADED, notice)

