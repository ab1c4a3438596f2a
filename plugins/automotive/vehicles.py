"""The vehicle an automotive archive is about: VIN and plate validation as plain functions.

A VIN is 17 characters without I, O or Q; position 9 is the ISO 3779 / FMVSS 115 check digit,
which Chinese VINs (GB 16735) carry too. A plate is a province abbreviation, the issuing-office
letter, then 5 characters (6 on a new-energy plate, with D or F marking it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TRANSLITERATION = {**{str(d): d for d in range(10)},
                    **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
                    **dict(zip("STUVWXYZ", range(2, 10)))}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN = re.compile(r"^[0-9A-HJ-NPR-Z]{17}$")

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_ALNUM = "[A-HJ-NP-Z0-9]"  # plates leave out I and O
_REGULAR = re.compile(rf"^[{PROVINCES}][A-Z]{_ALNUM}{{4}}[A-HJ-NP-Z0-9挂学警港澳]$")
_NEW_ENERGY = re.compile(rf"^[{PROVINCES}][A-Z](?:[DF]{_ALNUM}\d{{4}}|\d{{5}}[DF])$")
_BARE_PREFIX = re.compile(rf"^[{PROVINCES}][A-Z]?$")


def vin_check_digit(vin: str) -> str:
    """The check digit (0-9 or X) a 17-character VIN should carry at position 9."""
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin.upper(), _WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(vin: Any) -> tuple[str, str] | None:
    """``None`` for a valid VIN, else the problem in en and zh."""
    if not isinstance(vin, str) or not vin.strip():
        return "the VIN is missing", "缺少车架号（VIN）"
    value = vin.strip().upper()
    if len(value) != 17:
        return f"the VIN {value} has {len(value)} characters, not 17", f"车架号 {value} 为 {len(value)} 位，应为17位"
    if not _VIN.match(value):
        return (f"the VIN {value} holds a character a VIN never uses (I, O, Q or a symbol)",
                f"车架号 {value} 含有不允许的字符（I、O、Q 或符号）")
    expected = vin_check_digit(value)
    if value[8] != expected:
        return (f"the VIN {value} fails its check digit (position 9 is {value[8]}, should be {expected})",
                f"车架号 {value} 校验位错误（第9位为 {value[8]}，应为 {expected}）")
    return None


def vin_valid(vin: Any) -> bool:
    return vin_problem(vin) is None


def is_new_energy_plate(plate: str) -> bool:
    return bool(_NEW_ENERGY.match(plate.strip().upper()))


def plate_problem(plate: Any) -> tuple[str, str] | None:
    """``None`` for a complete plate (吉A12345, 吉AD12345), else the problem in en and zh; the bare
    prefix (吉A) is reported as such (V4)."""
    if not isinstance(plate, str) or not plate.strip():
        return "the plate number is missing", "缺少车牌号码"
    value = plate.strip().upper().replace(" ", "").replace("·", "")
    if _BARE_PREFIX.match(value):
        return f"the plate is only the prefix {value}", f"车牌号码只有前缀“{value}”"
    if _REGULAR.match(value) or _NEW_ENERGY.match(value):
        return None
    return (f"{value} is not a plate number (province, letter, 5 characters; 6 on a new-energy plate)",
            f"{value} 不是有效车牌号码（省份简称+字母+5位，新能源6位）")


def plate_valid(plate: Any) -> bool:
    return plate_problem(plate) is None


def subject_problems(subject: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Problems of an archive's subject (the vehicle): ``(fact, en, zh)`` for the VIN (the
    subject's key) and the plate when the vehicle has one (a new car may not be registered yet)."""
    problems = []
    vin = vin_problem(subject.get("key"))
    if vin:
        problems.append(("key", *vin))
    plate = (subject.get("facts") or {}).get("plate")
    if plate not in (None, ""):
        found = plate_problem(plate)
        if found:
            problems.append(("plate", *found))
    return problems
