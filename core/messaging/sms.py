"""The pluggable SMS sender and the one way kehu texts a customer.

A deployment plugs its SMS platform in with ``use_sender(sender)``: any object with ``async def
send(phone, text, *, idempotency_key) -> None`` (raise to report a failed send; the key lets the
platform drop a repeat). The default, ``LogOnlySender``, sends nothing: it logs that a message
would go out, with the number masked (its last two digits only) and the text's length, never the
number or the text in clear.

``send_customer_sms`` decides per customer, inside the caller's unit of work, in this order: the
customer exists (not erased or merged away); it carries none of ``skip_tags`` (a vertical's rule,
e.g. property-owner records that may not be used for marketing, seed 001 S08); its consent for the
purpose holds (core's consent ledger; a frozen customer never does); it has a phone (its own, else
its primary contact's). Only then is the text handed to the sender. The phone never leaves this
module: the caller learns the outcome only."""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

import structlog

from core.customers.service import SEALED_CONTACT, open_record
from core.customers.tables import Customer, CustomerContact
from core.db.uow import UnitOfWork
from core.privacy import consent, crypto

log = structlog.get_logger("kehu.messaging")


class SmsOutcome(StrEnum):
    SENT = "sent"
    NOT_FOUND = "not_found"  # no such customer (erased, merged away, another tenant's)
    EXCLUDED = "excluded"  # the customer carries a tag the caller may not text
    NO_CONSENT = "no_consent"  # consent for the purpose does not hold (never given, withdrawn, frozen)
    NO_PHONE = "no_phone"
    FAILED = "failed"  # the sender raised


class SmsSender(Protocol):
    async def send(self, phone: str, text: str, *, idempotency_key: str) -> None: ...


def mask_phone(phone: str) -> str:
    """A number as logs may show it: every digit but the last two replaced."""
    digits = [c for c in phone if c.isdigit()]
    return "*" * max(0, len(digits) - 2) + "".join(digits[-2:])


class LogOnlySender:
    """The default sender: logs what would be sent (number masked, text length), sends nothing."""

    async def send(self, phone: str, text: str, *, idempotency_key: str) -> None:
        log.info("messaging.sms_logged", to=mask_phone(phone), length=len(text), idempotency_key=idempotency_key)


_sender: SmsSender = LogOnlySender()


def use_sender(sender: SmsSender) -> SmsSender:
    """Plug in the deployment's SMS platform; returns the sender it replaces."""
    global _sender
    previous, _sender = _sender, sender
    return previous


def current_sender() -> SmsSender:
    return _sender


async def _phone(uow: UnitOfWork, row: Any) -> str | None:
    assert uow.ctx.tenant_id is not None
    record = open_record(uow.ctx.tenant_id, row["data"], row["sealed"])
    phones = list(record.get("phones") or ())
    if phones:
        return str(phones[0])
    contact = await uow.select(CustomerContact.phones, CustomerContact.sealed).where(
        CustomerContact.customer_id == row["id"]).order_by(CustomerContact.is_primary, ascending=False).order_by(
        CustomerContact.created_at).first()
    if contact is None:
        return None
    personal = (crypto.open_json(uow.ctx.tenant_id, SEALED_CONTACT, contact["sealed"]) if contact["sealed"]
                else {"phones": json.loads(contact["phones"])})
    return str(personal["phones"][0]) if personal.get("phones") else None


async def send_customer_sms(uow: UnitOfWork, customer_id: UUID, text: str, *, purpose: str = "marketing_sms",
                            skip_tags: Iterable[str] = (), idempotency_key: str) -> SmsOutcome:
    """Text the customer through the current sender if (and only if) the checks in the module's
    description pass; the outcome says which check stopped it."""
    row = await uow.select(Customer.id, Customer.data, Customer.sealed, Customer.tags).where(
        (Customer.id == customer_id) & Customer.deleted_at.is_null() & Customer.merged_into.is_null()).first()
    if row is None:
        return SmsOutcome.NOT_FOUND
    skipped = set(skip_tags)
    if skipped and skipped & set(json.loads(row["tags"] or "[]")):
        return SmsOutcome.EXCLUDED
    if not await consent.may_process(uow, customer_id, purpose):
        return SmsOutcome.NO_CONSENT
    phone = await _phone(uow, row)
    if not phone:
        return SmsOutcome.NO_PHONE
    try:
        await _sender.send(phone, text, idempotency_key=idempotency_key)
    except Exception as exc:  # noqa: BLE001 - one recipient's failure is that recipient's outcome
        log.warning("messaging.sms_failed", customer_id=str(customer_id), error=type(exc).__name__)
        return SmsOutcome.FAILED
    return SmsOutcome.SENT
