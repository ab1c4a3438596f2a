"""Complaints hold personal data (issue 19): a subject's copy of the complaints naming the subject,
erasure's rule for them, and the engine's part in key rotation (re-seal a free-text complainant
still on an old data key). Shaped as a step of ``core.privacy.rekey`` (``(label, table, columns, fix)``):
``("complaints", Complaint, ("id", "complainant"), reseal_complainants)``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from core.complaints.tables import Complaint
from core.db.uow import UnitOfWork
from core.privacy import crypto

SEALED_COMPLAINANT = "complaint.complainant"
REKEY_STEP_COLUMNS = ("id", "complainant")


async def reseal_complainants(uow: UnitOfWork, tenant_id: UUID, rows: list[dict[str, Any]]) -> int:
    """Re-seal each row's complainant that is not on the active key; how many changed."""
    done = 0
    for row in rows:
        text = row["complainant"]
        if not crypto.is_sealed(text) or crypto.on_active_key(text):
            continue
        person = crypto.open_json(tenant_id, SEALED_COMPLAINANT, text)
        await uow.update(Complaint, {Complaint.complainant: crypto.seal_json(tenant_id, SEALED_COMPLAINANT, person)}) \
            .where(Complaint.id == row["id"])
        done += 1
    return done


# --- the subject's rights (issue 19: complaints hold personal data) --------------------------------

#: What a subject's copy says of each complaint naming the subject (as complainant or linked customer).
SUBJECT_COLUMNS = ("number", "vertical", "flow", "source", "channel", "category", "severity", "state", "subject",
                   "fields", "attachments", "opened_at", "closed_at")


def _text(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


async def subject_complaints(uow: UnitOfWork, customer_ids: list[UUID]) -> list[dict[str, Any]]:
    """The complaints naming the subject (``customer_id``), oldest first, in clear (the subject's own
    copy): the case, a free-text complainant recorded with it, and its timeline without the staff
    who acted."""
    from core.complaints.tables import ComplaintEvent

    if not customer_ids:
        return []
    rows = await uow.select(Complaint).where(Complaint.customer_id.is_in(customer_ids)).order_by(Complaint.opened_at)
    found: list[dict[str, Any]] = []
    for row in rows:
        item: dict[str, Any] = {"id": str(row["id"]), **{k: _text(row[k]) for k in SUBJECT_COLUMNS}}
        item["fields"] = json.loads(row["fields"] or "{}")
        item["attachments"] = json.loads(row["attachments"] or "[]")
        item["complainant"] = (crypto.open_json(row["tenant_id"], SEALED_COMPLAINANT, row["complainant"])
                               if row["complainant"] else None)
        events = await uow.select(ComplaintEvent.at, ComplaintEvent.kind, ComplaintEvent.action,
                                  ComplaintEvent.from_state, ComplaintEvent.to_state).where(
            ComplaintEvent.complaint_id == row["id"]).order_by(ComplaintEvent.at).order_by(ComplaintEvent.created_at)
        item["events"] = [{k: _text(v) for k, v in e.items()} for e in events]
        found.append(item)
    return found


def _scrub(text: str, values: Iterable[str], replacement: str) -> str:
    for value in sorted(values, key=len, reverse=True):
        for form in {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}:
            if form:
                text = text.replace(form, replacement)
    return text


async def erase_complainants(uow: UnitOfWork, customer_ids: list[UUID], values: Iterable[str],
                             replacement: str) -> int:
    """Erasure's rule for complaints (``core.privacy.erasure``): the complaint stays (its number,
    clocks, decisions and reports are the tenant's records), its complainant's personal fields go:
    the free-text complainant recorded with a complaint linked to the subject is emptied, and the
    subject's values quoted in its subject line and recorded fields are replaced. A free-text
    complainant of a complaint not linked to the subject is never matched by name. How many
    complaints changed."""
    if not customer_ids:
        return 0
    values = [v for v in values if v]
    values += [v[3:] for v in values if v.startswith("+86") and len(v) > 6]  # a phone as it is usually written
    rows = await uow.select(Complaint.id, Complaint.subject, Complaint.fields, Complaint.complainant,
                            Complaint.version).where(Complaint.customer_id.is_in(customer_ids))
    for row in rows:
        await uow.update(Complaint, {Complaint.complainant: None,
                                     Complaint.subject: _scrub(row["subject"] or "", values, replacement),
                                     Complaint.fields: _scrub(row["fields"] or "{}", values, replacement),
                                     Complaint.version: row["version"] + 1}).where(Complaint.id == row["id"])
    return len(rows)
