"""Which customer fields are personal, and which are sensitive (PIPL art. 28).

Core declares its own fields here; verticals declare theirs with each ``CustomerField``'s
``privacy`` class. Every path out (GraphQL, exports, webhooks) and every store (encryption at
rest, erasure) asks this module, so one table decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from core.plugins.types import CustomerField, PrivacyClass

# Dotted field -> class. A field not listed is not personal (status, tags, owner, sections' business data).
CORE_FIELDS: Mapping[str, PrivacyClass] = {
    "surname": PrivacyClass.PERSONAL,
    "given_name": PrivacyClass.PERSONAL,
    "legal_representative": PrivacyClass.PERSONAL,
    "phones": PrivacyClass.PERSONAL,
    "emails": PrivacyClass.PERSONAL,
    "identifier.number": PrivacyClass.SENSITIVE,  # resident ID: PIPL art. 28 (identity)
    "address.street": PrivacyClass.PERSONAL,
    "address.house_number": PrivacyClass.PERSONAL,
    "address.village": PrivacyClass.PERSONAL,
    "credit": PrivacyClass.SENSITIVE,  # financial standing of a person: PIPL art. 28 (financial accounts)
    "contacts.surname": PrivacyClass.PERSONAL,
    "contacts.given_name": PrivacyClass.PERSONAL,
    "contacts.phones": PrivacyClass.PERSONAL,
    "contacts.email": PrivacyClass.PERSONAL,
}


def field_class(name: str, schema: Mapping[str, Mapping[str, CustomerField]] | None = None) -> PrivacyClass:
    """The class of a dotted field (``phones``, ``identifier.number``, ``extensions.dealer.vin``)."""
    if name.startswith("extensions."):
        _, vertical, field = (name.split(".", 2) + ["", ""])[:3]
        declared = (schema or {}).get(vertical, {}).get(field)
        return declared.privacy if declared is not None else PrivacyClass.PERSONAL  # unknown: treat as personal
    return _core_class(name)


@lru_cache(maxsize=1024)
def _core_class(name: str) -> PrivacyClass:
    # Field names are few and asked for per row of every import and page: remember the answer.
    while name:
        if name in CORE_FIELDS:
            return CORE_FIELDS[name]
        name = name.rpartition(".")[0]
    return PrivacyClass.NOT_PERSONAL


def is_personal(name: str, schema: Mapping[str, Mapping[str, CustomerField]] | None = None) -> bool:
    return field_class(name, schema) is not PrivacyClass.NOT_PERSONAL


# Personal fields stored in clear so people can be found and greeted by name (seed-004 §3.4);
# every other personal field is encrypted at rest and masked on the way out.
CLEAR_NAMES = frozenset({"surname", "given_name", "legal_representative", "contacts.surname", "contacts.given_name"})


def split_personal(record: Mapping[str, object], schema: Mapping[str, Mapping[str, CustomerField]] | None = None,
                   prefix: str = "") -> tuple[dict[str, object], dict[str, object]]:
    """(clear part, personal part) of a record: nested objects are split field by field, names
    stay in the clear part. Merging the two back (``merge_parts``) gives the record."""
    clear: dict[str, object] = {}
    personal: dict[str, object] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner_clear, inner_personal = split_personal(value, schema, f"{name}.")
            if inner_clear:
                clear[key] = inner_clear
            if inner_personal:
                personal[key] = inner_personal
        elif name in CLEAR_NAMES or field_class(name, schema) is PrivacyClass.NOT_PERSONAL:
            clear[key] = value
        else:
            personal[key] = value
    return clear, personal


def merge_parts(clear: dict[str, object], personal: Mapping[str, object]) -> dict[str, object]:
    """``clear`` with the personal part merged back in (changes ``clear``)."""
    for key, value in personal.items():
        if isinstance(value, Mapping) and isinstance(clear.get(key), dict):
            merge_parts(clear[key], value)  # type: ignore[arg-type]
        else:
            clear[key] = value
    return clear
