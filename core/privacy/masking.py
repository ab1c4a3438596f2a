"""Masking of personal values for readers without ``customer.pii.unmask``: the one place every
path out (GraphQL, exports, webhook payloads) goes through.

Phones keep their first 3 and last 4 digits (``138****5678``), resident IDs their first 4 and
last 4 characters (``1101**********1234``), other text its first character. Names stay readable:
a customer service desk must be able to greet the customer (seed-004 §3.4 masks contact data and
identity numbers, not names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.context import Context
from core.plugins.types import CustomerField, FieldKind, PrivacyClass
from core.privacy.classification import field_class

UNMASK_PERMISSION = "customer.pii.unmask"
# Personal fields shown in clear to every reader with customer.read.
READABLE = frozenset({"surname", "given_name", "legal_representative", "contacts.surname", "contacts.given_name"})


def may_see_clear(ctx: Context) -> bool:
    """Whether this reader may receive personal values in clear; the system actor (jobs, sweeps)
    may, a signed-in user or API key only with the unmask permission."""
    return ctx.is_system or (ctx.principal is not None and UNMASK_PERMISSION in ctx.principal.permissions)


def mask_phone(value: str) -> str:
    digits = value.removeprefix("+86") if value.startswith("+86") else value.lstrip("+")
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_identifier(value: str) -> str:
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else mask_text(value)


def mask_text(value: str) -> str:
    return value[:1] + "*" * min(max(len(value) - 1, 2), 8) if value else value


def mask_value(name: str, value: Any) -> Any:
    """A masked copy of one field's value (lists and sections masked element by element)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [mask_value(name, v) for v in value]
    if isinstance(value, Mapping):
        return {k: mask_value(f"{name}.{k}", v) for k, v in value.items()}
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None if not isinstance(value, bool) else value
    if isinstance(value, (int, float)):
        return None  # a masked number cannot look like a number: withhold it
    if name.endswith("phones"):
        return mask_phone(value)
    if name.endswith("identifier.number"):
        return mask_identifier(value)
    if name.endswith("emails") or name.endswith("email"):
        return mask_email(value)
    return mask_text(value)


def mask_record(record: Mapping[str, Any], schema: Mapping[str, Mapping[str, CustomerField]] | None = None,
                prefix: str = "") -> dict[str, Any]:
    """A copy of a customer record (or contact, with ``prefix="contacts."``) with every personal
    field masked, except the readable names."""
    masked: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and (key in ("address", "identifier", "extensions") or name.startswith("extensions.")):
            masked[key] = mask_record(value, schema, f"{name}.")
        elif name in READABLE or field_class(name, schema) is PrivacyClass.NOT_PERSONAL:
            masked[key] = value
        else:
            masked[key] = _masked(name, value, schema)
    return masked


def _masked(name: str, value: Any, schema: Mapping[str, Mapping[str, CustomerField]] | None) -> Any:
    """A personal value masked; a decimal extension field's value (its decimal text) is withheld
    like any masked number, never shown by its first digit."""
    if name.startswith("extensions.") and value is not None:
        _, vertical, field = (name.split(".", 2) + ["", ""])[:3]
        declared = (schema or {}).get(vertical, {}).get(field)
        if declared is not None and declared.kind is FieldKind.DECIMAL:
            return None
    return mask_value(name, value)


def for_reader(ctx: Context, record: Mapping[str, Any],
               schema: Mapping[str, Mapping[str, CustomerField]] | None = None, prefix: str = "") -> Mapping[str, Any]:
    """The record as this reader may see it."""
    return record if may_see_clear(ctx) else mask_record(record, schema, prefix)


def mask_changes(changes: Mapping[str, Any], schema: Mapping[str, Mapping[str, CustomerField]] | None = None
                 ) -> dict[str, Any]:
    """A field history entry ({dotted field: [old, new]}) with personal values masked."""
    return {name: pair if name in READABLE or field_class(name, schema) is PrivacyClass.NOT_PERSONAL
            else [_masked(name, value, schema) for value in pair] for name, pair in changes.items()}


def mask_contact(phones: Any, email: str | None) -> tuple[list[str], str | None]:
    """A contact's phones and email as every reader sees them."""
    return [mask_phone(p) for p in phones], mask_email(email) if email else email


# Free-form forms (archive documents, their facts) carry numbers typed by hand, not typed fields:
# a mainland mobile number (with or without +86) or a resident ID number found in their text.
_MOBILE = re.compile(r"(?<![\dXx])(?:\+?86[- ]?)?1[3-9]\d{9}(?![\dXx])")
_RESIDENT_ID = re.compile(r"(?<![\dXx])\d{17}[\dXx](?![\dXx])")


def mask_numbers_in(value: Any) -> Any:
    """A copy of free-form data with every mobile and resident ID number in its text masked, at any
    depth of lists and mappings; other values as they are."""
    if isinstance(value, str):
        masked = _RESIDENT_ID.sub(lambda m: mask_identifier(m.group()), value)
        return _MOBILE.sub(lambda m: mask_phone(re.sub(r"[- ]", "", m.group())), masked)
    if isinstance(value, list):
        return [mask_numbers_in(v) for v in value]
    if isinstance(value, Mapping):
        return {k: mask_numbers_in(v) for k, v in value.items()}
    return value


def free_text_for_reader(ctx: Context, value: Any) -> Any:
    """Free-form data as this reader may see it (numbers masked without customer.pii.unmask)."""
    return value if may_see_clear(ctx) else mask_numbers_in(value)
