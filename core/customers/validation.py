"""Checking and normalising what a customer record holds, each failure with its own code.

Names are surname + given name, never a placeholder like 王女士; resident IDs and unified social
credit codes are checked with their checksums (python-stdnum); phones are parsed and stored in
E.164 (phonenumbers); an address goes down to the house number, or to the village for rural ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import phonenumbers
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from core.errors import KehuError
from core.plugins.types import CustomerField, FieldKind, decimal_text, exact_decimal

PERSON, ORGANISATION = "person", "organisation"
KINDS = (PERSON, ORGANISATION)
STATUSES = ("potential", "active", "dormant", "lost", "terminated")
SOURCE_CHANNELS = ("sales", "customer_service", "market_research", "partner", "online", "exhibition", "other")
IDENTIFIER_TYPES = ("resident_id", "credit_code", "passport", "hk_macau_permit", "taiwan_permit", "other")
SECTIONS = ("business", "needs", "credit", "other")  # free sections of text and numbers
ADDRESS_PARTS = ("province", "city", "county", "street", "house_number", "village")
# Key information (seed-004 §2.3.1): a change needs a reason.
KEY_FIELDS = frozenset({"surname", "given_name", "org_name", "legal_representative", "phones", "emails",
                        "identifier.number", "identifier.type", "business.scope"})

# 王女士, 李先生, 某女士, 张总, 刘老板: a title in place of a given name.
_PLACEHOLDER_GIVEN = re.compile(r"^(某|x+|X+|\*+)?(女士|先生|小姐|太太|夫人|老板|总|经理|师傅|阿姨|老师|同志|某)?$")
_PLACEHOLDER_SURNAME = re.compile(r"^(某|x+|X+|\*+|未知|不详)$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_TEXT = 500
# Lists a record may hold: bounded so one request cannot store (and every later read carry) thousands.
MAX_TAGS = 50
MAX_PHONES = 20
MAX_EMAILS = 20
SEARCH_TEXT_MAX = 100

# Characters no text may hold (issue 16 point 9): C0/C1 controls (NUL also breaks PostgreSQL), bidi
# marks, overrides and isolates (U+202E shows "gpj.exe" as "exe.jpg"), zero-width and other
# invisible characters (two names that look the same but differ), and lone surrogates (not
# encodable as UTF-8). Tab, line feed and carriage return are refused too, except in multi-line text.
_UNSAFE = ("\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
           "\u2066-\u2069\ufeff\ud800-\udfff")
_UNSAFE_IN_MULTILINE = re.compile(f"[{_UNSAFE}]")
_UNSAFE_IN_LINE = re.compile(f"[{_UNSAFE}\t\n\r\u2028\u2029]")


def invalid(code: str, field: str, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field)


class DuplicateIdentifier(KehuError):
    """Another live customer holds the identifier. ``customer_id`` names it, set only once the
    caller is known to be allowed to read that customer; ``collides_with`` are the candidates."""

    def __init__(self, collides_with: tuple[UUID, ...] = (), customer_id: UUID | None = None) -> None:
        named = f"customer {customer_id} " if customer_id else "another customer "
        named_zh = f"客户 {customer_id} " if customer_id else "已有客户"
        super().__init__("DUPLICATE_IDENTIFIER",
                         f"{named}has this identifier; merge them, or force with customer.duplicate.force",
                         f"{named_zh}使用该证件号；请合并，或以强制权限创建", field="identifier.number")
        self.collides_with = collides_with
        self.customer_id = customer_id


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character of ``value`` that no text may hold, as ``U+XXXX``; None if there is none."""
    found = (_UNSAFE_IN_MULTILINE if multiline else _UNSAFE_IN_LINE).search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def check_characters(value: str, field: str, *, multiline: bool = False) -> None:
    """Refuse control, bidirectional and invisible characters; the message names the character,
    never the value (it may be a password)."""
    char = unsafe_character(value, multiline=multiline)
    if char is not None:
        raise invalid("TEXT_INVALID_CHARACTERS", field,
                      f"{field} holds the character {char} (a control, bidirectional or invisible character); "
                      "remove it",
                      f"{field} 含有不允许的字符 {char}（控制字符、双向控制字符或不可见字符），请删除")


def check_list_size(values: Any, field: str, limit: int) -> None:
    if len(values) > limit:
        raise invalid("LIST_TOO_LONG", field, f"{field} holds {len(values)} items; at most {limit}",
                      f"{field} 含 {len(values)} 项，最多 {limit} 项")


def latest_today() -> date:
    """Today's date where it is latest (UTC+14): a date after it is in the future everywhere, so
    a baby born today in Shanghai is never refused by a server whose clock is on UTC."""
    return datetime.now(timezone(timedelta(hours=14))).date()


def birth_date(value: date, field: str) -> date:
    if value > latest_today():
        raise invalid("BIRTH_DATE_IN_FUTURE", field, f"{field}: a birth date of {value.isoformat()} is in the future",
                      f"{field}：出生日期 {value.isoformat()} 晚于今天")
    return value


def search_text(value: str | None) -> str | None:
    """A customer search text: trimmed, 1 to SEARCH_TEXT_MAX characters, no unsafe characters."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= SEARCH_TEXT_MAX:
        raise invalid("SEARCH_TEXT_INVALID", "filter.text",
                      f"the search text must be 1 to {SEARCH_TEXT_MAX} characters long",
                      f"搜索文本须为 1 至 {SEARCH_TEXT_MAX} 个字符")
    check_characters(text, "filter.text")
    return text


def _text(value: Any, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise invalid("FIELD_REQUIRED", field, f"{field} is required", f"{field} 为必填项")
        return None
    if not isinstance(value, str):
        raise invalid("FIELD_INVALID", field, f"{field} must be text", f"{field} 须为文本")
    # Line breaks and tabs are folded into spaces below; everything else unsafe is refused.
    check_characters(value, field, multiline=True)
    value = " ".join(value.split())
    if len(value) > max_length:
        raise invalid("FIELD_TOO_LONG", field, f"{field} is longer than {max_length} characters",
                      f"{field} 超过 {max_length} 个字符")
    return value


def person_name(surname: Any, given_name: Any, prefix: str = "") -> tuple[str, str]:
    """``prefix`` places the fields in the input (``contacts.0.``), so an error names the right one."""
    surname = _text(surname, f"{prefix}surname", required=True, max_length=20)
    given = _text(given_name, f"{prefix}given_name", required=True, max_length=30)
    assert surname is not None and given is not None
    if _PLACEHOLDER_SURNAME.match(surname) or _PLACEHOLDER_GIVEN.match(given):
        raise invalid("NAME_PLACEHOLDER", f"{prefix}given_name",
                      f"'{surname}{given}' is a form of address, not a name: record the surname and given name",
                      f"“{surname}{given}”是称呼而非姓名，请填写姓和名")
    return surname, given


def identifier(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise invalid("FIELD_INVALID", "identifier", "identifier must be {type, number}", "证件须包含类型和号码")
    kind = value.get("type")
    if kind not in IDENTIFIER_TYPES:
        raise invalid("IDENTIFIER_TYPE_INVALID", "identifier.type",
                      f"identifier type must be one of {', '.join(IDENTIFIER_TYPES)}", "证件类型无效")
    number = _text(value.get("number"), "identifier.number", required=True, max_length=64)
    assert number is not None
    if kind == "resident_id":
        try:
            number = _resident_id(number)
        except ValidationError:
            raise invalid("RESIDENT_ID_INVALID", "identifier.number",
                          "the resident ID number is not valid (length, birth date or check digit)",
                          "居民身份证号码无效（位数、出生日期或校验码不符）") from None
        # python-stdnum checks that the birth date exists, not that it has passed (2099 passes).
        birth_date(ric.get_birth_date(number), "identifier.number")
    elif kind == "credit_code":
        try:
            number = uscc.validate(number)
        except ValidationError:
            raise invalid("CREDIT_CODE_INVALID", "identifier.number",
                          "the unified social credit code is not valid (check digit)",
                          "统一社会信用代码无效（校验码不符）") from None
    else:
        number = number.upper().replace(" ", "")
    return {"type": kind, "number": number}


_birth_places: dict[tuple[str, int], bool] = {}  # (region code, birth year) -> the region existed then


_COMPACT_ID = re.compile(r"[0-9]{17}[0-9X]")  # already what ric.compact returns


def _resident_id(number: str) -> str:
    """python-stdnum's check (length, digits, check digit, birth date, birth place), with the
    birth-place lookup remembered per region and year: an import checks thousands of IDs from a
    few hundred regions, and the lookup is most of the cost."""
    if not _COMPACT_ID.fullmatch(number):
        number = ric.compact(number)
    if len(number) != 18:
        raise InvalidLength()
    if not number[:-1].isdigit():
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    key = (number[:6], ric.get_birth_date(number).year)
    if key not in _birth_places:
        try:
            ric.get_birth_place(number)
            _birth_places[key] = True
        except ValidationError:
            _birth_places[key] = False
    if not _birth_places[key]:
        raise InvalidComponent()
    return number


# A bare or +86 eleven-digit number checked against phonenumbers' own pattern for Chinese mobiles:
# the same verdict as parse + is_valid_number (a test compares them) at a tenth of the cost,
# for the most common number an import or a form carries.
_CN_MOBILE_SHAPE = re.compile(r"(?:\+86)?(1[0-9]{10})")
_CN_MOBILE = re.compile(phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern)


def phone(value: Any, field: str = "phones") -> str:
    """A phone in E.164; numbers without a country code are read as Chinese."""
    if not isinstance(value, str) or not value.strip():
        raise invalid("PHONE_INVALID", field, "a phone number is empty or not text", "电话号码为空或格式错误")
    shape = _CN_MOBILE_SHAPE.fullmatch(value)
    if shape and _CN_MOBILE.fullmatch(shape[1]):
        return "+86" + shape[1]
    check_characters(value, field, multiline=True)  # phonenumbers would skip them (whitespace is harmless)
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise invalid("PHONE_INVALID", field, f"{value!r} is not a valid phone number", f"“{value}”不是有效的电话号码")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phones(values: Any, field: str = "phones") -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise invalid("PHONE_INVALID", field, "phones must be a list", "电话须为列表")
    values = list(values)
    check_list_size(values, field, MAX_PHONES)
    normalised: list[str] = []
    for value in values:
        number = phone(value, field)
        if number not in normalised:
            normalised.append(number)
    return normalised


def emails(values: Any, field: str = "emails") -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise invalid("EMAIL_INVALID", field, "emails must be a list", "邮箱须为列表")
    values = list(values)
    check_list_size(values, field, MAX_EMAILS)
    normalised: list[str] = []
    for value in values:
        if isinstance(value, str):
            check_characters(value, field, multiline=True)  # surrounding whitespace is stripped below
        if not isinstance(value, str) or not _EMAIL.match(value.strip()):
            raise invalid("EMAIL_INVALID", field, f"{value!r} is not an email address", f"“{value}”不是有效的邮箱")
        address = value.strip().lower()
        if address not in normalised:
            normalised.append(address)
    return normalised


def address(value: Any) -> dict[str, str] | None:
    """Province, city and county always; then street and house number, or village (rural)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise invalid("FIELD_INVALID", "address", "address must be structured", "地址须为结构化字段")
    parts = {part: _text(value.get(part), f"address.{part}", max_length=100) for part in ADDRESS_PARTS}
    unknown = set(value) - set(ADDRESS_PARTS)
    if unknown:
        raise invalid("FIELD_UNKNOWN", f"address.{sorted(unknown)[0]}", f"address has no part {sorted(unknown)[0]!r}",
                      "地址字段未知")
    for part, zh in (("province", "省"), ("city", "市"), ("county", "区/县")):
        if not parts[part]:
            raise invalid("ADDRESS_INCOMPLETE", f"address.{part}", f"the address is missing its {part}",
                          f"地址缺少{zh}")
    if not parts["village"] and not (parts["street"] and parts["house_number"]):
        missing = "street" if not parts["street"] else "house_number"
        raise invalid("ADDRESS_INCOMPLETE", f"address.{missing}",
                      "the address needs the street and house number, or the village for a rural address",
                      "地址须写明街道和门牌号，农村地址须写明村")
    return {k: v for k, v in parts.items() if v}


def section(name: str, value: Any) -> dict[str, Any]:
    """A free section (business, needs, credit, other): short text, numbers or true/false."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid("FIELD_INVALID", name, f"{name} must be an object of fields", f"{name} 须为字段集合")
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not re.match(r"^[a-z][a-z0-9_]{0,39}$", key):
            raise invalid("FIELD_INVALID", f"{name}.{key}", f"{name}.{key} is not a field name", "字段名无效")
        if item is None:
            continue
        if isinstance(item, bool) or isinstance(item, int | float):
            cleaned[key] = item
        elif key in BIRTH_DATE_KEYS:
            cleaned[key] = _birth_date_text(item, f"{name}.{key}")
        else:
            cleaned[key] = _text(item, f"{name}.{key}")
    return cleaned


# A free section's field of one of these names is a birth date: a date, and not a future one.
BIRTH_DATE_KEYS = frozenset({"birth_date", "date_of_birth", "birthday"})


def _birth_date_text(value: Any, field: str) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        born = date.fromisoformat(value.strip())
    except ValueError:
        raise invalid("DATE_INVALID", field, f"{field} must be a date (YYYY-MM-DD)", f"{field} 须为日期（YYYY-MM-DD）") from None
    return birth_date(born, field).isoformat()


def tags(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise invalid("FIELD_INVALID", "tags", "tags must be a list", "标签须为列表")
    values = list(values)
    check_list_size(values, "tags", MAX_TAGS)
    return sorted({t for t in (_text(v, "tags", max_length=40) for v in values) if t})


def choice(value: Any, field: str, allowed: tuple[str, ...], code: str) -> str:
    if value not in allowed:
        raise invalid(code, field, f"{field} must be one of {', '.join(allowed)}", f"{field} 须为 {'、'.join(allowed)} 之一")
    return value


def extension_value(vertical_id: str, spec: CustomerField, value: Any) -> Any:
    """A value of a vertical's extension field, checked against the field's declared type."""
    field = f"extensions.{vertical_id}.{spec.name}"

    def wrong(what: str, what_zh: str) -> KehuError:
        return invalid("EXTENSION_FIELD_INVALID", field, f"{field} must be {what}", f"{field} 须为{what_zh}")

    if spec.kind is FieldKind.TEXT:
        if not isinstance(value, str):
            raise wrong("text", "文本")
        check_characters(value, field)
        if spec.max_length is not None and len(value) > spec.max_length:
            raise wrong(f"at most {spec.max_length} characters", f"不超过 {spec.max_length} 个字符")
        if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
            raise wrong("in the expected format", "规定格式")
        return value
    if spec.kind is FieldKind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("a whole number", "整数")
        return value
    if spec.kind is FieldKind.DECIMAL:  # money: kept as its exact decimal text, never a float
        number = exact_decimal(value)
        if number is None:
            raise wrong("a decimal number (e.g. \"1234.56\")", "十进制数（如 \"1234.56\"）")
        return decimal_text(number)
    if spec.kind is FieldKind.BOOLEAN:
        if not isinstance(value, bool):
            raise wrong("true or false", "是或否")
        return value
    if spec.kind is FieldKind.DATE:
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            parsed = date.fromisoformat(value)
        except ValueError:
            raise wrong("a date (YYYY-MM-DD)", "日期（YYYY-MM-DD）") from None
        if "birth" in spec.name:  # a vertical's birth date field: not in the future
            birth_date(parsed, field)
        return parsed.isoformat()
    if spec.kind is FieldKind.CHOICE:
        if value not in spec.choices:
            raise wrong(f"one of {', '.join(spec.choices)}", f"{'、'.join(spec.choices)} 之一")
        return value
    raise wrong("a supported value", "支持的值")  # pragma: no cover - every kind is handled above


def extensions(value: Any, schema: Mapping[str, Mapping[str, CustomerField]],
               enabled: frozenset[str], *, kind: str | None = None, status: str | None = None,
               stored: Mapping[str, Any] | None = None, managing: str | None = None) -> dict[str, dict[str, Any]]:
    """Extension fields by vertical: only enabled verticals, only declared fields, right types;
    a vertical's required fields must be present (of the kinds and statuses it names); a managed
    field keeps its stored value unless ``managing`` names its vertical (that vertical's own
    operations change it, through ``core.plugins.update_customer_extensions``).

    ``stored`` is the record's extension data before this change (an update). The data of a
    vertical the tenant has disabled, or whose plugin is not loaded, is kept as stored, untouched
    and unchecked, so a change that does not touch it succeeds; a change to it is refused."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise invalid("FIELD_INVALID", "extensions", "extensions must be {vertical: {field: value}}", "扩展字段格式错误")
    kept = {vertical_id: dict(fields) for vertical_id, fields in (stored or {}).items()
            if (vertical_id not in enabled or vertical_id not in schema) and isinstance(fields, Mapping)}
    cleaned: dict[str, dict[str, Any]] = {}
    for vertical_id, fields in value.items():
        if vertical_id in kept:
            if fields != kept[vertical_id] and fields is not None:  # omitting it keeps it too
                raise invalid("VERTICAL_NOT_ENABLED", f"extensions.{vertical_id}",
                              f"the vertical {vertical_id!r} is not enabled for this tenant: its fields are kept "
                              "as they are until it is enabled again", f"本租户未启用行业插件 {vertical_id!r}，其字段保持不变")
            continue
        if vertical_id not in schema:
            raise invalid("EXTENSION_FIELD_UNKNOWN", f"extensions.{vertical_id}",
                          f"no vertical {vertical_id!r} declares customer fields", f"没有行业插件 {vertical_id!r} 的扩展字段")
        if vertical_id not in enabled:
            raise invalid("VERTICAL_NOT_ENABLED", f"extensions.{vertical_id}",
                          f"the vertical {vertical_id!r} is not enabled for this tenant", f"本租户未启用行业插件 {vertical_id!r}")
        if not isinstance(fields, Mapping):
            raise invalid("FIELD_INVALID", f"extensions.{vertical_id}", "extension fields must be an object",
                          "扩展字段须为字段集合")
        declared = schema[vertical_id]
        cleaned[vertical_id] = {}
        for name, item in fields.items():
            if name not in declared:
                raise invalid("EXTENSION_FIELD_UNKNOWN", f"extensions.{vertical_id}.{name}",
                              f"{vertical_id} declares no customer field {name!r}", f"{vertical_id} 没有扩展字段 {name!r}")
            if item is not None:
                cleaned[vertical_id][name] = extension_value(vertical_id, declared[name], item)
    for vertical_id, declared in schema.items():
        if vertical_id == managing or vertical_id not in enabled:
            continue
        before = (stored or {}).get(vertical_id) or {}
        for name, spec in declared.items():
            if spec.managed and cleaned.get(vertical_id, {}).get(name) != before.get(name):
                raise invalid("FIELD_MANAGED", f"extensions.{vertical_id}.{name}",
                              f"{name} changes only through the {vertical_id} vertical's own operations",
                              f"{name} 只能通过 {vertical_id} 插件的专门操作修改")
    for vertical_id in enabled & set(schema):
        for name, spec in schema[vertical_id].items():
            if spec.required_of(kind, status) and cleaned.get(vertical_id, {}).get(name) is None:
                raise invalid("FIELD_REQUIRED", f"extensions.{vertical_id}.{name}",
                              f"{vertical_id} requires {name} of this customer", f"{vertical_id} 要求填写 {name}")
    return {v: f for v, f in {**cleaned, **kept}.items() if f}


def visible_extensions(record: Mapping[str, Any], shown: frozenset[str] | set[str]) -> dict[str, Any]:
    """The record as read: extension data only of the verticals in ``shown`` (enabled for the
    tenant and loaded); the others' stays stored, hidden, and shows again when they return."""
    ext = record.get("extensions")
    if not ext or all(vertical_id in shown for vertical_id in ext):
        return dict(record)
    hidden = {vertical_id: fields for vertical_id, fields in ext.items() if vertical_id in shown}
    result = {key: value for key, value in record.items() if key != "extensions"}
    if hidden:
        result["extensions"] = hidden
    return result
