"""A customer record as data: building it from input, flattening it for field history, and
replaying history to read any past state.

A record is a dict of fields (names, identifier, phones, address, sections, extensions, owner,
department, …). History works on its flattened form, where nested objects become dotted fields
(``address.city``, ``extensions.automotive.vin``) and lists stay whole values (``phones``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import msgspec

from core.customers import validation as v
from core.errors import KehuError
from core.plugins.types import CustomerField

# Top-level fields a caller may set; everything else is derived or system-kept.
INPUT_FIELDS = ("kind", "status", "surname", "given_name", "org_name", "legal_representative", "identifier",
                "phones", "emails", "address", "owner_id", "department_id", "tags", "source_channel", "is_key",
                "access_level", *v.SECTIONS, "extensions")
MAX_ACCESS_LEVEL = 9  # CSM-20: levels 0 (everyone) to 9
NOT_FOR_KIND = {v.PERSON: ("org_name", "legal_representative"), v.ORGANISATION: ("surname", "given_name")}


def build_record(fields: Mapping[str, Any], *, schema: Mapping[str, Mapping[str, CustomerField]],
                 enabled: frozenset[str], stored: Mapping[str, Any] | None = None,
                 managing: str | None = None) -> dict[str, Any]:
    """Validate and normalise a whole record; the first problem raises its coded error.
    ``stored`` is the record before an update: the extension data of verticals not enabled (or not
    loaded) is carried over from it unchanged (issue 18 point 7)."""
    unknown = sorted(set(fields) - set(INPUT_FIELDS))
    if unknown:
        raise v.invalid("FIELD_UNKNOWN", unknown[0], f"a customer has no field {unknown[0]!r}",
                        f"客户没有字段 {unknown[0]!r}")
    kind = v.choice(fields.get("kind"), "kind", v.KINDS, "CUSTOMER_KIND_INVALID")
    for field in NOT_FOR_KIND[kind]:
        if fields.get(field) not in (None, ""):
            raise v.invalid("FIELD_NOT_FOR_KIND", field, f"{field} is not a field of a {kind}", f"{field} 不适用于该客户类型")
    record: dict[str, Any] = {"kind": kind,
                              "status": v.choice(fields.get("status", "potential"), "status", v.STATUSES,
                                                 "CUSTOMER_STATUS_INVALID")}
    if kind == v.PERSON:
        record["surname"], record["given_name"] = v.person_name(fields.get("surname"), fields.get("given_name"))
    else:
        record["org_name"] = v._text(fields.get("org_name"), "org_name", required=True, max_length=200)
        legal = v._text(fields.get("legal_representative"), "legal_representative", max_length=50)
        if legal:
            record["legal_representative"] = legal
    ident = v.identifier(fields.get("identifier"))
    if ident:
        expected = {v.PERSON: ("resident_id", "passport", "hk_macau_permit", "taiwan_permit", "other"),
                    v.ORGANISATION: ("credit_code", "other")}[kind]
        if ident["type"] not in expected:
            raise v.invalid("IDENTIFIER_TYPE_INVALID", "identifier.type",
                            f"a {kind} cannot be identified by {ident['type']}", "证件类型与客户类型不符")
        record["identifier"] = ident
    for name, value in (("phones", v.phones(fields.get("phones"))), ("emails", v.emails(fields.get("emails"))),
                        ("tags", v.tags(fields.get("tags")))):
        if value:
            record[name] = value
    addr = v.address(fields.get("address"))
    if addr:
        record["address"] = addr
    for name in ("owner_id", "department_id"):
        value = fields.get(name)
        if value is not None:
            try:
                record[name] = str(UUID(str(value)))
            except ValueError:
                raise v.invalid("ID_INVALID", name, f"{name} is not a valid id", f"{name} 不是有效的 ID") from None
    if fields.get("source_channel") is not None:
        record["source_channel"] = v.choice(fields["source_channel"], "source_channel", v.SOURCE_CHANNELS,
                                            "SOURCE_CHANNEL_INVALID")
    is_key = fields.get("is_key", False)
    if not isinstance(is_key, bool):
        raise v.invalid("FIELD_INVALID", "is_key", "is_key must be true or false", "is_key 须为是或否")
    if is_key:
        record["is_key"] = True
    level = fields.get("access_level") or 0
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_ACCESS_LEVEL:
        raise v.invalid("FIELD_INVALID", "access_level", f"access_level is a whole number from 0 to {MAX_ACCESS_LEVEL}",
                        f"访问级别须为 0 至 {MAX_ACCESS_LEVEL} 的整数")
    if level:
        record["access_level"] = level
    for name in v.SECTIONS:
        value = v.section(name, fields.get(name))
        if value:
            record[name] = value
    ext = v.extensions(fields.get("extensions"), schema, enabled, kind=kind, status=record["status"],
                       stored=(stored or {}).get("extensions"), managing=managing)
    if ext:
        record["extensions"] = ext
    return record


def display_name(record: Mapping[str, Any]) -> str:
    return record["org_name"] if record["kind"] == v.ORGANISATION else record["surname"] + record["given_name"]


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, value in flat.items():
        if value is None:
            continue
        *parents, leaf = name.split(".")
        node = record
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return record


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Dotted field -> [old, new] for every field that differs (None for absent)."""
    old, new = flatten(before), flatten(after)
    return {name: [old.get(name), new.get(name)] for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)}


def replay(changes: Iterable[Mapping[str, list[Any]]]) -> dict[str, Any]:
    """The record after applying these history changes in order (version 1 first)."""
    flat: dict[str, Any] = {}
    for change in changes:
        for name, (_, new) in change.items():
            if new is None:
                flat.pop(name, None)
            else:
                flat[name] = new
    return unflatten(flat)


def key_changes(changes: Mapping[str, Any]) -> list[str]:
    return sorted(name for name in changes if name in v.KEY_FIELDS or name.split(".")[0] in v.KEY_FIELDS)


def search_text(record: Mapping[str, Any]) -> str:
    """Names only: phones and identifiers are encrypted and found by exact match (customer_key)."""
    return display_name(record).lower()


_ENCODER = msgspec.json.Encoder(order="sorted")  # keys sorted at every level, so equal records store equal text


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys, as records, contacts' phones and history are stored
    (msgspec: an import writes four of these a row, several times faster than the json module)."""
    return _ENCODER.encode(value).decode()


def refuse_stale(expected: int, actual: int) -> KehuError:
    return KehuError("VERSION_CONFLICT", f"the customer changed since you read it (version {expected}, now {actual}); "
                     "read it again and redo your change", f"客户已被他人修改（您读取的是第 {expected} 版，现为第 {actual} 版），请重新读取后再修改",
                     field="version")
