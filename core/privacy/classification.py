"""Which customer fields are personal, and which are sensitive (PIPL art. 28).

Core declares its own fields here; verticals declare theirs with each ``CustomerField``'s
``privacy`` class. Every path out (GraphQL, exports, webhooks) and every store (encryption at
rest, erasure) asks this module, so one table decides.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    while name:
        if name in CORE_FIELDS:
            return CORE_FIELDS[name]
        name = name.rpartition(".")[0]
    return PrivacyClass.NOT_PERSONAL


def is_personal(name: str, schema: Mapping[str, Mapping[str, CustomerField]] | None = None) -> bool:
    return field_class(name, schema) is not PrivacyClass.NOT_PERSONAL
